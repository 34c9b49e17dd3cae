using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.Tracker;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.Core.Store;
using Shoal.P2P.Engine;

namespace Shoal.Agent.Internal;

/// <summary>
/// Fetches blobs through the peer-to-peer swarm: metainfo from the tracker (which has it from the
/// owning origins; while an origin fetches a cold blob from its backend the tracker answers 202 and
/// the agent asks again, up to <see cref="AgentOptions.ColdBlobTimeout"/>), then pieces from peers
/// and origins. Downloads are shared per blob by the engine,
/// and can be read while they run.
/// <para>
/// When the tracker cannot be reached (or fails, or does not answer in time) and a fallback is set
/// (<see cref="AgentOptions.OriginFallback"/>), the blob is fetched whole from its owning origins
/// over HTTP instead, verified like any download. After a tracker failure the tracker is left alone
/// for <see cref="TrackerRetryAfter"/>, so that an outage costs one timeout, not one per blob.
/// </para>
/// </summary>
internal sealed partial class SwarmBlobSource : IBlobSource
{
    /// <summary>How long after a tracker failure blobs go straight to the fallback.</summary>
    public static readonly TimeSpan TrackerRetryAfter = TimeSpan.FromSeconds(10);

    private readonly TrackerClient _tracker;
    private readonly PeerEngine _engine;
    private readonly OriginBlobSource? _fallback;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _coldBlobTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger<SwarmBlobSource> _logger;
    private long _trackerDownUntil;

    public SwarmBlobSource(TrackerClient tracker, PeerEngine engine, OriginBlobSource? fallback, AgentOptions options, TimeProvider time, ILogger<SwarmBlobSource> logger)
    {
        _tracker = tracker;
        _engine = engine;
        _fallback = fallback;
        _timeout = options.UpstreamTimeout;
        _coldBlobTimeout = options.ColdBlobTimeout;
        _time = time;
        _logger = logger;
    }

    /// <summary>True when a tracker failure sends requests to the origins over HTTP (see <see cref="AgentOptions.OriginFallback"/>).</summary>
    public bool FallsBack => _fallback is not null;

    /// <inheritdoc />
    public async Task<long?> StatAsync(BlobRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return (await MetaInfoAsync(request, cancellationToken))?.Length;
        }
        catch (TrackerUnavailableException ex) when (_fallback is not null)
        {
            Log.FallingBack(_logger, request.Digest, ex.Message);
            return await _fallback.StatAsync(request, cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<BlobCommitResult?> DownloadAsync(BlobRequest request, BlobStore store, CancellationToken cancellationToken)
    {
        BlobDownload? download;
        try
        {
            download = await StartAsync(request, cancellationToken);
        }
        catch (TrackerUnavailableException ex) when (_fallback is not null)
        {
            Log.FallingBack(_logger, request.Digest, ex.Message);
            return await _fallback.DownloadAsync(request, store, cancellationToken);
        }
        return download is null ? null : await download.Completion.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The blob's download (joined or started), or null when no origin has the blob. Throws
    /// <see cref="TrackerUnavailableException"/> when the tracker fails (then, with a fallback,
    /// <see cref="DownloadAsync"/> fetches the blob from the origins without asking the tracker again).
    /// </summary>
    public async Task<BlobDownload?> StartAsync(BlobRequest request, CancellationToken cancellationToken)
    {
        var info = await MetaInfoAsync(request, cancellationToken);
        if (info is null)
        {
            return null;
        }
        return await _engine.DownloadAsync(info, request.Repository, cancellationToken);
    }

    private async Task<MetaInfo?> MetaInfoAsync(BlobRequest request, CancellationToken cancellationToken)
    {
        if (_fallback is not null && _time.GetTimestamp() < Interlocked.Read(ref _trackerDownUntil))
        {
            throw new TrackerUnavailableException($"the tracker failed less than {TrackerRetryAfter.TotalSeconds:0} s ago");
        }
        // While an origin fetches the blob from its backend the tracker works, the blob is not ready
        // yet: ask again as told, up to the cold-blob deadline (no fallback: the origins over HTTP
        // would wait for the same fetch, and every agent would pull the blob whole).
        return await MetaInfoLookup.PollAsync(request.Digest, ct => LookupAsync(request, ct), _time, cancellationToken, _coldBlobTimeout);
    }

    /// <summary>One metainfo question to the tracker; a failure marks it down (with a fallback) and is a <see cref="TrackerUnavailableException"/>.</summary>
    private async Task<MetaInfoLookup> LookupAsync(BlobRequest request, CancellationToken cancellationToken)
    {
        MetaInfoLookup answer;
        try
        {
            answer = await Upstream.CallAsync(t => _tracker.LookupMetaInfoAsync(request.Digest, request.Repository, t), _timeout, _time, cancellationToken);
        }
        catch (Exception ex) when (Upstream.IsFailure(ex, cancellationToken) && ex is not (DigestMismatchException or InvalidDataException))
        {
            if (_fallback is not null)
            {
                Interlocked.Exchange(ref _trackerDownUntil, _time.GetTimestamp() + (long)(TrackerRetryAfter.TotalSeconds * _time.TimestampFrequency));
                Log.TrackerFailed(_logger, ex.Message, TrackerRetryAfter.TotalSeconds);
            }
            throw new TrackerUnavailableException($"tracker: {ex.Message}", ex);
        }
        if (answer.Pending)
        {
            Log.Pending(_logger, request.Digest, answer.RetryAfter!.Value.TotalSeconds);
        }
        return answer;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The tracker failed ({Reason}); blobs come from the origins over HTTP for the next {Seconds} s")]
        public static partial void TrackerFailed(ILogger logger, string reason, double seconds);

        [LoggerMessage(2, LogLevel.Debug, "Fetching {Digest} from the origins over HTTP: {Reason}")]
        public static partial void FallingBack(ILogger logger, Digest digest, string reason);

        [LoggerMessage(3, LogLevel.Debug, "The origins are fetching {Digest} from their backend; asking again within {Seconds} s")]
        public static partial void Pending(ILogger logger, Digest digest, double seconds);
    }
}

/// <summary>The tracker could not give a blob's metainfo (unreachable, failing, or too slow): an upstream failure.</summary>
internal sealed class TrackerUnavailableException : Exception
{
    public TrackerUnavailableException()
    {
    }

    public TrackerUnavailableException(string message)
        : base(message)
    {
    }

    public TrackerUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
