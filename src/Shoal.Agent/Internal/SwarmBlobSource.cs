using Shoal.Clients.Tracker;
using Shoal.Core.Store;
using Shoal.P2P.Engine;

namespace Shoal.Agent.Internal;

/// <summary>
/// Fetches blobs through the peer-to-peer swarm: metainfo from the tracker (which has it from the
/// owning origins), then pieces from peers and origins. Downloads are shared per blob by the engine,
/// and can be read while they run.
/// </summary>
internal sealed class SwarmBlobSource : IBlobSource
{
    private readonly TrackerClient _tracker;
    private readonly PeerEngine _engine;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    public SwarmBlobSource(TrackerClient tracker, PeerEngine engine, AgentOptions options, TimeProvider time)
    {
        _tracker = tracker;
        _engine = engine;
        _timeout = options.UpstreamTimeout;
        _time = time;
    }

    /// <inheritdoc />
    public async Task<long?> StatAsync(BlobRequest request, CancellationToken cancellationToken)
    {
        var info = await Upstream.CallAsync(t => _tracker.GetMetaInfoAsync(request.Digest, request.Repository, t), _timeout, _time, cancellationToken);
        return info?.Length;
    }

    /// <inheritdoc />
    public async Task<BlobCommitResult?> DownloadAsync(BlobRequest request, BlobStore store, CancellationToken cancellationToken)
    {
        var download = await StartAsync(request, cancellationToken);
        return download is null ? null : await download.Completion.WaitAsync(cancellationToken);
    }

    /// <summary>The blob's download (joined or started), or null when no origin has the blob.</summary>
    public async Task<BlobDownload?> StartAsync(BlobRequest request, CancellationToken cancellationToken)
    {
        var info = await Upstream.CallAsync(t => _tracker.GetMetaInfoAsync(request.Digest, request.Repository, t), _timeout, _time, cancellationToken);
        if (info is null)
        {
            return null;
        }
        return await _engine.DownloadAsync(info, request.Repository, cancellationToken);
    }
}
