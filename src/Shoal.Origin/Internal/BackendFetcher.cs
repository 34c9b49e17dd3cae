using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.Storage;

namespace Shoal.Origin.Internal;

/// <summary>
/// Fills cache misses from the backend: one fetch per digest however many requests ask, the bytes
/// verified against the digest while they are written into the <see cref="BlobStore"/>.
/// </summary>
/// <remarks>
/// A fetch runs on the application's lifetime, not on the request that started it, so a caller
/// that gives up does not fail the others; each caller only stops waiting. The in-flight entry is
/// removed before its result is published, so nothing is remembered about a failed fetch: the next
/// request tries again.
/// </remarks>
internal sealed class BackendFetcher
{
    private readonly BlobStore _store;
    private readonly IBlobBackend _backend;
    private readonly OriginMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<Digest, Task<FetchResult>> _inFlight = new();
    private long _requests;

    public BackendFetcher(BlobStore store, IBlobBackend backend, OriginMetrics metrics, ILogger<BackendFetcher> logger, IHostApplicationLifetime lifetime)
    {
        _store = store;
        _backend = backend;
        _metrics = metrics;
        _logger = logger;
        _stopping = lifetime.ApplicationStopping;
    }

    /// <summary>How many times a fetch was asked for (tests use it to know every caller is waiting).</summary>
    internal long Requests => Interlocked.Read(ref _requests);

    /// <summary>Makes sure the blob is in the store, fetching it from the backend if needed.</summary>
    public Task<FetchResult> FetchAsync(Digest digest, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        var mine = new TaskCompletionSource<FetchResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = _inFlight.GetOrAdd(digest, mine.Task);
        if (task == mine.Task)
        {
            _ = RunAsync(digest, mine);
        }
        return task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync(Digest digest, TaskCompletionSource<FetchResult> completion)
    {
        FetchResult result;
        try
        {
            result = await FetchCoreAsync(digest, _stopping);
        }
        catch (Exception ex)
        {
            if (!_stopping.IsCancellationRequested)
            {
                Log.FetchFailed(_logger, digest, ex);
            }
            result = new FetchResult(FetchStatus.Failed, ex.Message);
        }
        _metrics.BackendFetches.Add(1, new KeyValuePair<string, object?>("outcome", result.Status switch
        {
            FetchStatus.Stored => "stored",
            FetchStatus.NotFound => "not_found",
            FetchStatus.Corrupt => "corrupt",
            _ => "failed",
        }));
        _inFlight.TryRemove(KeyValuePair.Create(digest, completion.Task));
        completion.SetResult(result);
    }

    private async Task<FetchResult> FetchCoreAsync(Digest digest, CancellationToken cancellationToken)
    {
        // A fetch that finished just before this one was registered already stored the blob.
        if (_store.Contains(digest))
        {
            return FetchResult.Stored;
        }
        var name = BackendNames.ForBlob(digest);
        var stat = await _backend.StatAsync(name, cancellationToken);
        await using var source = stat is null ? null : await _backend.OpenReadAsync(name, 0, null, cancellationToken);
        if (stat is null || source is null)
        {
            Log.FetchNotFound(_logger, digest);
            return FetchResult.NotFound;
        }
        try
        {
            await _store.WriteAsync(digest, source, stat.Size, cancellationToken);
        }
        catch (Exception ex) when (ex is DigestMismatchException or InvalidDataException)
        {
            Log.FetchCorrupt(_logger, digest, ex.Message);
            return new FetchResult(FetchStatus.Corrupt, $"backend object {name} does not match its digest: {ex.Message}");
        }
        // It came from the store of record, so the cache may drop it at any time.
        _store.UpdateFlags(digest, persisted: true);
        _metrics.BackendFetchedBytes.Add(stat.Size);
        Log.Fetched(_logger, digest, stat.Size);
        return FetchResult.Stored;
    }
}
