using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.P2P.Engine;

namespace Shoal.Agent.Internal;

/// <summary>
/// The agent's local cache: a content-addressed <see cref="BlobStore"/> filled on demand from an
/// <see cref="IBlobSource"/>. Concurrent requests for one missing blob share one download; a
/// failed download is forgotten at once, so the next request tries again.
/// </summary>
internal sealed partial class BlobCache
{
    private readonly IBlobSource _source;
    private readonly AgentStats _stats;
    private readonly ILogger<BlobCache> _logger;
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<Digest, Task<bool>> _downloads = new();
    private readonly ConcurrentDictionary<BlobDownload, byte> _streaming = new(ReferenceEqualityComparer.Instance);

    private readonly BlobLeases _leases;

    public BlobCache(BlobStore store, IBlobSource source, BlobLeases leases, AgentStats stats, IHostApplicationLifetime lifetime, ILogger<BlobCache> logger)
    {
        Store = store;
        _leases = leases;
        _source = source;
        _stats = stats;
        _logger = logger;
        _stopping = lifetime.ApplicationStopping;
    }

    /// <summary>The store blobs are served from; everything in it has been verified.</summary>
    public BlobStore Store { get; }

    /// <summary>
    /// Marks the blob in use (eviction leaves it alone) until the lease is disposed: taken before a
    /// request looks the blob up and held until its response is written, so the cache sweeper
    /// cannot remove it between "it is cached" and the reader's open file.
    /// </summary>
    public BlobLeases.Lease Lease(Digest digest) => _leases.Acquire(digest);

    /// <summary>The blob's length: from the store when cached, else asked of the source without downloading; null when unknown.</summary>
    public async Task<long?> StatAsync(BlobRequest request, CancellationToken cancellationToken)
    {
        if (Store.Stat(request.Digest) is { } info)
        {
            _stats.CacheHit();
            return info.Size;
        }
        return await _source.StatAsync(request, cancellationToken);
    }

    /// <summary>
    /// The blob's bytes for serving: from the store when cached; else, with a swarm source, the
    /// shared in-progress download (readable before it completes, verified pieces only); else (or
    /// when the tracker failed and the source falls back to the origins) after a whole download
    /// (<see cref="EnsureAsync"/>). Null when no upstream has the blob.
    /// </summary>
    public async Task<BlobContent?> OpenAsync(BlobRequest request, CancellationToken cancellationToken)
    {
        if (Store.Stat(request.Digest) is { } cached)
        {
            _stats.CacheHit();
            return BlobContent.FromStore(Store, request.Digest, cached.Size);
        }
        if (_source is SwarmBlobSource swarm && await StartStreamingAsync(swarm, request, cancellationToken) is var (download, fallBack) && !fallBack)
        {
            if (download is null)
            {
                Log.DownloadNotFound(_logger, request.Digest);
                return null;
            }
            if (download.Completion.IsCompletedSuccessfully && Store.Stat(request.Digest) is { } done)
            {
                return BlobContent.FromStore(Store, request.Digest, done.Size);
            }
            Count(download);
            return new BlobContent(download.MetaInfo.Length, (offset, count, _) => Task.FromResult(download.OpenRead(offset, count)));
        }
        if (!await EnsureAsync(request, cancellationToken))
        {
            return null;
        }
        var size = Store.Stat(request.Digest)?.Size ?? throw new IOException($"{request.Digest} left the store while being served");
        return BlobContent.FromStore(Store, request.Digest, size);
    }

    /// <summary>
    /// Makes sure the blob is in <see cref="Store"/>, downloading it when missing (or joining the
    /// download another request started). False when no upstream has it.
    /// </summary>
    /// <param name="cancellationToken">Stops this caller's wait; the shared download goes on for the others.</param>
    public Task<bool> EnsureAsync(BlobRequest request, CancellationToken cancellationToken)
    {
        if (Store.Contains(request.Digest))
        {
            _stats.CacheHit();
            return Task.FromResult(true);
        }
        var mine = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var download = _downloads.GetOrAdd(request.Digest, mine.Task);
        if (download == mine.Task)
        {
            _ = RunDownloadAsync(request, mine);
        }
        else
        {
            _stats.DownloadJoined();
        }
        return download.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The swarm download to stream (null when no origin has the blob), or fall-back when the tracker
    /// failed and the source takes such blobs from the origins (whole, through <see cref="EnsureAsync"/>).
    /// </summary>
    private static async Task<(BlobDownload? Download, bool FallBack)> StartStreamingAsync(SwarmBlobSource swarm, BlobRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return (await swarm.StartAsync(request, cancellationToken), false);
        }
        catch (TrackerUnavailableException) when (swarm.FallsBack)
        {
            return (null, true);
        }
    }

    /// <summary>
    /// Counts a streamed swarm download once however many requests read it: started (or joined)
    /// now, downloaded or failed when it ends.
    /// </summary>
    private void Count(BlobDownload download)
    {
        if (!_streaming.TryAdd(download, 0))
        {
            _stats.DownloadJoined();
            return;
        }
        _stats.DownloadStarted();
        var digest = download.MetaInfo.Digest;
        var started = Environment.TickCount64;
        _ = download.Completion.ContinueWith(
            done =>
            {
                _streaming.TryRemove(download, out _);
                if (done.IsCompletedSuccessfully)
                {
                    Downloaded(digest, done.Result.Size, started);
                }
                else
                {
                    Failed(digest, done.Exception?.GetBaseException().Message ?? "cancelled");
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task RunDownloadAsync(BlobRequest request, TaskCompletionSource<bool> completion)
    {
        var digest = request.Digest;
        try
        {
            bool found;
            // A download that finished between the caller's check and our registration already stored it.
            if (Store.Contains(digest))
            {
                _stats.CacheHit();
                found = true;
            }
            else
            {
                _stats.DownloadStarted();
                Log.DownloadStarting(_logger, digest, request.Repository, request.Upstream);
                var started = Environment.TickCount64;
                var result = await _source.DownloadAsync(request, Store, _stopping);
                found = result is not null;
                if (result is null)
                {
                    Log.DownloadNotFound(_logger, digest);
                }
                else
                {
                    Downloaded(digest, result.Size, started);
                }
            }
            // Leave the map before completing: whoever comes next sees the store, or starts afresh.
            _downloads.TryRemove(new KeyValuePair<Digest, Task<bool>>(digest, completion.Task));
            completion.SetResult(found);
        }
        catch (Exception ex)
        {
            Failed(digest, ex.Message);
            _downloads.TryRemove(new KeyValuePair<Digest, Task<bool>>(digest, completion.Task));
            completion.SetException(ex);
        }
    }

    /// <summary>A download (whole or streamed) ended with the blob stored: counted and logged here only.</summary>
    private void Downloaded(Digest digest, long size, long startedTicks)
    {
        _stats.Downloaded(size);
        Log.Downloaded(_logger, digest, size, Environment.TickCount64 - startedTicks);
    }

    /// <summary>A download (whole or streamed) failed: counted and logged here only.</summary>
    private void Failed(Digest digest, string reason)
    {
        _stats.DownloadFailed();
        Log.DownloadFailed(_logger, digest, reason);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Downloading {Digest} for {Repository} (upstream {Upstream})")]
        public static partial void DownloadStarting(ILogger logger, Digest digest, string repository, string? upstream);

        [LoggerMessage(2, LogLevel.Information, "Downloaded {Digest}: {Size} bytes in {ElapsedMs} ms")]
        public static partial void Downloaded(ILogger logger, Digest digest, long size, long elapsedMs);

        [LoggerMessage(3, LogLevel.Information, "No upstream has {Digest}")]
        public static partial void DownloadNotFound(ILogger logger, Digest digest);

        [LoggerMessage(4, LogLevel.Warning, "Download of {Digest} failed: {Reason}")]
        public static partial void DownloadFailed(ILogger logger, Digest digest, string reason);
    }
}
