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
        if (_store.Stat(digest) is { Metadata.Persisted: false })
        {
            if (_router.Resolve(ns) is null)
            {
                // No backend for this namespace: the cache is the store of record.
                _store.UpdateFlags(digest, persisted: true);
            }
            else
            {
                tasks.Add(new NewTask(WriteBackKinds.WriteBack, digest, ns));
                writeThrough = _router.IsWriteThrough(ns);
            }
        }
        if (replicate)
        {
            tasks.AddRange(_membership.ReplicaTargets(digest).Select(t => new NewTask(WriteBackKinds.Replicate, digest, ns, t)));
        }
        try
        {
            await _queue.EnqueueAsync(tasks, cancellationToken);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // The blob stays cached but unpersisted; the client's retry enqueues again.
            Log.QueueFailed(_logger, ex);
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "write-back queue unavailable", $"{digest} is cached but its write-back could not be queued: {ex.Message}");
        }
        if (tasks.Count > 0)
        {
            _worker.Wake();
        }
        return writeThrough ? await WriteThroughAsync(digest, ns, cancellationToken) : null;
    }

    /// <summary>Writes the blob to its backend now (the write-back task's own code); null once it is there, else the 503 to answer.</summary>
    private async Task<IResult?> WriteThroughAsync(Digest digest, string? ns, CancellationToken cancellationToken)
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
        if (_store.Stat(digest) is not { Metadata.Persisted: true })
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "backend write failed",
                $"{digest} left the cache before it was written through to its backend; upload it again");
        }
        try
        {
            await _queue.RemoveAsync(WriteBackKinds.WriteBack, digest, string.Empty, CancellationToken.None);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // Harmless: the worker finds the blob persisted and drops the task.
            Log.QueueFailed(_logger, ex);
        }
        return null;
    }
}
