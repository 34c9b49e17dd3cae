using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Core.Store;

namespace Shoal.Origin.Internal;

/// <summary>
/// What happens between committing an upload to the cache and acknowledging it: persist it to the
/// store of record (<see cref="IWriteBack"/>), then copy it to the other owners.
/// </summary>
internal sealed class CommitFollowUp
{
    private readonly IWriteBack _writeBack;
    private readonly Replicator _replicator;
    private readonly OriginMetrics _metrics;
    private readonly ILogger _logger;

    public CommitFollowUp(IWriteBack writeBack, Replicator replicator, OriginMetrics metrics, ILogger<CommitFollowUp> logger)
    {
        _writeBack = writeBack;
        _replicator = replicator;
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
        try
        {
            await _writeBack.PersistAsync(commit.Digest, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The blob stays cached but unpersisted; the client's retry finds it and persists again.
            Log.WriteBackFailed(_logger, commit.Digest, ex);
            return Problems.Create(StatusCodes.Status502BadGateway, "backend write failed", $"{commit.Digest} could not be written to the backend: {ex.Message}");
        }
        if (replicate)
        {
            await _replicator.ReplicateAsync(commit.Digest, ns, cancellationToken);
        }
        return null;
    }
}
