using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Core.Store;
using Shoal.Storage;

namespace Shoal.Origin.Internal;

/// <summary>
/// What happens between committing an upload to the cache and acknowledging it: durably enqueue
/// its write-back to the namespace's backend and its copies to the other owners. The tasks run
/// after the acknowledgement (<see cref="WriteBackWorker"/>).
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
        return null;
    }
}
