namespace Shoal.P2P.Protocol;

/// <summary>The code of an <see cref="MessageType.Error"/> message (16 bits on the wire).</summary>
/// <remarks>A receiver treats a code it does not know like <see cref="InternalError"/>.</remarks>
public enum PeerErrorCode : ushort
{
    /// <summary>A malformed frame, an unknown message type, a limit exceeded or a message out of order.</summary>
    ProtocolViolation = 1,

    /// <summary>The versions the two sides speak do not overlap.</summary>
    UnsupportedVersion = 2,

    /// <summary>The receiver does not serve the swarm (info hash) asked for.</summary>
    UnknownSwarm = 3,

    /// <summary>The blob digest, piece count or info hash in the handshake disagree with the receiver's metainfo.</summary>
    SwarmMismatch = 4,

    /// <summary>The peer is not allowed to join the swarm (namespace or identity refused).</summary>
    Forbidden = 5,

    /// <summary>The receiver has no connection slot free; try again later or elsewhere.</summary>
    Busy = 6,

    /// <summary>The handshake or an idle period took too long.</summary>
    Timeout = 7,

    /// <summary>More requests outstanding than the receiver queues.</summary>
    TooManyRequests = 8,

    /// <summary>A request for a piece the receiver never announced.</summary>
    PieceUnavailable = 9,

    /// <summary>A piece failed its SHA-256 check.</summary>
    CorruptPiece = 10,

    /// <summary>A second connection between the same two peers for the same swarm.</summary>
    DuplicateConnection = 11,

    /// <summary>The sender is shutting down.</summary>
    Shutdown = 12,

    /// <summary>Anything else.</summary>
    InternalError = 13,
}
