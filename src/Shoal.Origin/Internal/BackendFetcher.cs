using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.Core.Store;
using Shoal.Storage;

namespace Shoal.Origin.Internal;

/// <summary>
/// Fills cache misses: from a peer origin that holds the blob (owners first), else from the
/// namespace's backend. One <see cref="Download"/> per digest however many requests ask; its bytes
/// are written to a temp file as they arrive, so requests can stream them while they arrive
/// (<see cref="TailBlobResult"/>), and enter the store only once they match the digest.
/// </summary>
/// <remarks>
/// A fill runs on the application's lifetime, not on the request that started it, so a caller that
/// gives up does not fail the others. A fill that ends without the blob is remembered for
/// <see cref="OriginFetchOptions.NotFoundTtl"/> (not found) or <see cref="OriginFetchOptions.ErrorTtl"/>
/// (failure, corrupt object) per digest and namespace; after that the next request tries again.
/// </remarks>
internal sealed class BackendFetcher
{
    private readonly BlobStore _store;
    private readonly BackendRouter _router;
    private readonly ClusterMembership _membership;
    private readonly OriginMetrics _metrics;
    private readonly OriginFetchOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly string _tempRoot;
    private readonly ConcurrentDictionary<Digest, Download> _inFlight = new();
    private readonly ConcurrentDictionary<(Digest, string), (FetchResult Result, DateTimeOffset Expires)> _negative = new();
    private const int NegativeCachePurgeThreshold = 10_000;
    private long _requests;

    public BackendFetcher(BlobStore store, BackendRouter router, ClusterMembership membership, OriginMetrics metrics, OriginOptions options,
        TimeProvider time, ILogger<BackendFetcher> logger, IHostApplicationLifetime lifetime)
    {
        _store = store;
        _router = router;
        _membership = membership;
        _metrics = metrics;
        _options = options.Fetch;
        _time = time;
        _logger = logger;
        _stopping = lifetime.ApplicationStopping;
        _tempRoot = Path.Combine(Path.GetFullPath(options.DataDir), "fetching");
        if (Directory.Exists(_tempRoot))
        {
            Directory.Delete(_tempRoot, recursive: true); // fills that died with a previous process
        }
        Directory.CreateDirectory(_tempRoot);
    }

    /// <summary>How many times a fill was asked for (tests use it to know every caller is waiting).</summary>
    internal long Requests => Interlocked.Read(ref _requests);

    /// <summary>True when a miss can be filled from somewhere (a backend rule or peer origins exist).</summary>
    public bool CanFill => !_router.IsEmpty || _membership.IsClustered;

    /// <summary>Makes sure the blob is in the store, filling it if needed; returns once the fill ended.</summary>
    public async Task<FetchResult> FetchAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        var download = Join(digest, ns, out var remembered);
        return download is null ? remembered! : await download.Completion.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Joins (or starts) the fill of <paramref name="digest"/>; null with <paramref name="remembered"/>
    /// set when a recent fill failed and is still remembered.
    /// </summary>
    public Download? Join(Digest digest, string? ns, out FetchResult? remembered)
    {
        Interlocked.Increment(ref _requests);
        var key = (digest, ns ?? string.Empty);
        if (_negative.TryGetValue(key, out var entry))
        {
            if (_time.GetUtcNow() < entry.Expires)
            {
                remembered = entry.Result;
                return null;
            }
            _negative.TryRemove(KeyValuePair.Create(key, entry));
        }
        remembered = null;
        var mine = new Download(digest, Path.Combine(_tempRoot, Guid.NewGuid().ToString("N")));
        var download = _inFlight.GetOrAdd(digest, mine);
        if (download == mine)
        {
            _ = RunAsync(mine, ns);
        }
        return download;
    }

    private async Task RunAsync(Download download, string? ns)
    {
        await Task.Yield();
        var digest = download.Digest;
        FetchResult result;
        try
        {
            result = await FillAsync(download, ns, _stopping);
        }
        catch (Exception ex)
        {
            if (!_stopping.IsCancellationRequested)
            {
                Log.FetchFailed(_logger, digest, ex);
            }
            result = new FetchResult(FetchStatus.Failed, ex.Message);
        }
        finally
        {
            TryDelete(download.TempPath);
        }
        _metrics.BackendFetches.Add(1, new KeyValuePair<string, object?>("outcome", result.Status switch
        {
            FetchStatus.Stored => "stored",
            FetchStatus.NotFound => "not_found",
            FetchStatus.Corrupt => "corrupt",
            _ => "failed",
        }));
        var ttl = result.Status switch
        {
            FetchStatus.Stored => TimeSpan.Zero,
            FetchStatus.NotFound => _options.NotFoundTtl,
            _ => _options.ErrorTtl,
        };
        if (ttl > TimeSpan.Zero && !_stopping.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            if (_negative.Count >= NegativeCachePurgeThreshold)
            {
                // Bounded memory under a flood of distinct misses: drop what has expired.
                foreach (var stale in _negative.Where(e => e.Value.Expires <= now))
                {
                    _negative.TryRemove(stale);
                }
            }
            _negative[(digest, ns ?? string.Empty)] = (result, now + ttl);
        }
        _inFlight.TryRemove(KeyValuePair.Create(digest, download));
        download.Complete(result);
    }

    private async Task<FetchResult> FillAsync(Download download, string? ns, CancellationToken cancellationToken)
    {
        var digest = download.Digest;
        // A fill that finished just before this one was registered already stored the blob.
        if (_store.Contains(digest))
        {
            return FetchResult.Stored;
        }
        var (source, size, from, failure) = await OpenSourceAsync(digest, ns, cancellationToken);
        if (source is null)
        {
            if (failure is not null)
            {
                return new FetchResult(FetchStatus.Failed, failure);
            }
            Log.FetchNotFound(_logger, digest);
            return FetchResult.NotFound;
        }
        await using (source)
        {
            await using var file = new FileStream(download.TempPath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
                PreallocationSize = size,
            });
            // Only now: a reader told the size opens this file to tail it. Told before it exists, the
            // reader took the fill for finished and waited for the store, i.e. for the whole fill.
            download.Started(size);
            var buffer = ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
            try
            {
                long total = 0;
                int read;
                while ((read = await source.ReadAsync(buffer.AsMemory(0, StreamBuffers.CopyBufferSize), cancellationToken)) > 0)
                {
                    if (total + read > size)
                    {
                        throw new InvalidDataException($"{from} sent more than the announced {size} bytes of {digest}");
                    }
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    total += read;
                    download.Advance(read);
                }
                if (total != size)
                {
                    throw new InvalidDataException($"{from} sent {total} of the announced {size} bytes of {digest}");
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            file.Flush(flushToDisk: true);
        }
        try
        {
            await _store.CommitFileAsync(download.TempPath, digest, cancellationToken);
        }
        catch (DigestMismatchException ex)
        {
            Log.FetchCorrupt(_logger, digest, ex.Message);
            return new FetchResult(FetchStatus.Corrupt, $"the copy of {digest} from {from} does not match its digest: {ex.Message}");
        }
        // From the store of record, or a cached copy of a peer that owns (and writes back) the blob:
        // either way this copy may be evicted.
        _store.UpdateFlags(digest, persisted: true);
        _metrics.BackendFetchedBytes.Add(size);
        Log.Fetched(_logger, digest, size, from);
        return FetchResult.Stored;
    }

    /// <summary>The first source that has the blob: healthy peers in rendezvous order, then the backend.</summary>
    private async Task<(Stream? Source, long Size, string From, string? Failure)> OpenSourceAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        string? failure = null;
        foreach (var peer in _membership.PeersToAsk(digest))
        {
            var url = new Uri(new Uri(peer), $"v1/blobs/{digest}" + (ns is null ? "" : "?namespace=" + Uri.EscapeDataString(ns)));
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add(ClusterMembership.PeerFetchHeader, "1");
            HttpResponseMessage? response = null;
            try
            {
                response = await _membership.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK && response.Content.Headers.ContentLength is { } length)
                {
                    var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                    return (new ResponseStream(stream, response), length, peer, null);
                }
                if (response.StatusCode != HttpStatusCode.NotFound)
                {
                    failure = $"origin {peer} answered {(int)response.StatusCode}";
                }
                response.Dispose();
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                response?.Dispose();
                failure = $"origin {peer}: {ex.Message}";
                Log.PeerFetchFailed(_logger, digest, peer, ex.Message);
            }
        }
        var backend = _router.Resolve(ns);
        if (backend is null)
        {
            return (null, 0, string.Empty, failure);
        }
        var name = BackendNames.ForBlob(digest);
        var stat = await backend.StatAsync(name, cancellationToken);
        var source = stat is null ? null : await backend.OpenReadAsync(name, 0, null, cancellationToken);
        return source is null ? (null, 0, string.Empty, null) : (source, stat!.Size, "the backend", null);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A response body that disposes its response.</summary>
    private sealed class ResponseStream(Stream inner, HttpResponseMessage response) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
