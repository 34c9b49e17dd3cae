using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.Storage;

namespace Shoal.Origin.Internal;

/// <summary>
/// What happens between committing an upload to the cache and acknowledging it: durably enqueue
/// its write-back to the namespace's backend and its copies to the other owners. The tasks run
/// after the acknowledgement (<see cref="WriteBackWorker"/>), except the write-back of a namespace
/// whose rule writes through (<see cref="BackendRouter.IsWriteThrough"/>): that one runs inline,
/// and the upload is acknowledged only once the blob is in the backend. Its queued task is then
/// the recovery of an attempt that failed or was cut short by a crash; it is dropped on success.
/// </summary>
internal sealed class CommitFollowUp
{
    private readonly BlobStore _store;
    private readonly BackendRouter _router;
    private readonly ClusterMembership _membership;
    private readonly WriteBackQueue _queue;
    private readonly WriteBackWorker _worker;
    private readonly OriginMetrics _metrics;
    private readonly ILogger _logger;

    public CommitFollowUp(BlobStore store, BackendRouter router, ClusterMembership membership, WriteBackQueue queue, WriteBackWorker worker,
        OriginMetrics metrics, ILogger<CommitFollowUp> logger)
    {
        _store = store;
        _router = router;
        _membership = membership;
        _queue = queue;
        _worker = worker;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Returns null when the upload may be acknowledged, else the problem to answer.</summary>
    public async Task<IResult?> CompleteAsync(BlobCommitResult commit, string? ns, bool replicate, CancellationToken cancellationToken)
    {
        if (commit.Created)
        {
            _metrics.BlobsCommitted.Add(1);
        }
        Log.Committed(_logger, commit.Digest, commit.Size, commit.Created);
        var digest = commit.Digest;
        var tasks = new List<NewTask>();
        var writeThrough = false;
        string? storage = null;
        if (_store.Stat(digest) is { } info)
        {
            if (_router.Resolve(ns) is not { } backend)
            {
                // No backend for this namespace: the cache is the store of record (unless another
                // namespace's write-back of the same blob is still queued).
                if (!info.Metadata.Persisted)
                {
                    await _queue.FinishWriteBackAsync(digest, null, null, () => _worker.MarkPersisted(digest), cancellationToken);
                }
            }
            else if (!info.Metadata.Persisted || !await InBackendAsync(backend, digest, info.Size, cancellationToken))
            {
                // Persisted can mean "in another namespace's storage": a blob pushed to a namespace on
                // a different backend is written there too.
                storage = _router.StorageKey(ns)!;
                tasks.Add(new NewTask(WriteBackKinds.WriteBack, digest, ns, storage));
                writeThrough = _router.IsWriteThrough(ns);
            }
        }
        if (replicate)
        {
            tasks.AddRange(_membership.ReplicaTargets(digest).Select(t => new NewTask(WriteBackKinds.Replicate, digest, ns, t)));
        }
        try
        {
            // The blob stops counting as persisted (evictable) in the same step as its task is queued.
            await _queue.EnqueueAsync(tasks, storage is null ? null : () => _store.UpdateFlags(digest, persisted: false), cancellationToken);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // The blob stays cached; the client's retry enqueues again.
            Log.QueueFailed(_logger, ex);
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "write-back queue unavailable", $"{digest} is cached but its write-back could not be queued: {ex.Message}");
        }
        if (tasks.Count > 0)
        {
            _worker.Wake();
        }
        return writeThrough ? await WriteThroughAsync(digest, ns, storage!, cancellationToken) : null;
    }

    /// <summary>Whether <paramref name="backend"/> holds the blob (a backend that cannot answer counts as not).</summary>
    private static async Task<bool> InBackendAsync(IBlobBackend backend, Digest digest, long size, CancellationToken cancellationToken)
    {
        try
        {
            return (await backend.StatAsync(BackendNames.ForBlob(digest), cancellationToken))?.Size == size;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Writes the blob to its backend now (the write-back task's own code); null once it is there, else the 503 to answer.</summary>
    private async Task<IResult?> WriteThroughAsync(Digest digest, string? ns, string storage, CancellationToken cancellationToken)
    {
        try
        {
            await _worker.WriteBackAsync(digest, ns, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not acknowledged: the blob stays cached but unpersisted (never evicted), its queued
            // write-back retries it, and the client's retry writes it through again.
            _metrics.WriteBacks.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            Log.WriteThroughFailed(_logger, digest, ex);
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "backend write failed",
                $"{digest} could not be written through to its backend, so the upload is not acknowledged: {ex.Message}");
        }
        if (_store.Stat(digest) is null)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "backend write failed",
                $"{digest} left the cache before it was written through to its backend; upload it again");
        }
        try
        {
            // Its queued task is done; the blob is persisted unless another storage still awaits it.
            await _queue.FinishWriteBackAsync(digest, null, storage, () => _worker.MarkPersisted(digest), CancellationToken.None);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // Harmless: the worker runs the task, finds the blob in the backend and finishes it.
            Log.QueueFailed(_logger, ex);
        }
        return null;
    }
}
