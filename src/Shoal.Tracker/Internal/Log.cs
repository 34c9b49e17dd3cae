using Microsoft.Extensions.Logging;
using Shoal.Core;

namespace Shoal.Tracker.Internal;

/// <summary>The tracker's log events.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Peer {PeerId} announced {InfoHash} ({Digest}, complete: {Complete}); handed out {PeerCount} peers")]
    public static partial void Announced(ILogger logger, string infoHash, Digest digest, string peerId, bool complete, int peerCount);

    [LoggerMessage(2, LogLevel.Debug, "Fetched metainfo of {Digest} ({PieceCount} pieces) from the origins")]
    public static partial void MetaInfoFetched(ILogger logger, Digest digest, int pieceCount);

    [LoggerMessage(3, LogLevel.Warning, "No origin could give the metainfo of {Digest}: {Reason}")]
    public static partial void OriginsUnavailable(ILogger logger, Digest digest, string reason);

    [LoggerMessage(4, LogLevel.Warning, "An origin's metainfo answer for {Digest} was refused: {Reason}")]
    public static partial void OriginAnswerRefused(ILogger logger, Digest digest, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Announces are answered with the origins only: {Reason}")]
    public static partial void PeerStoreFailed(ILogger logger, string reason);
}
