namespace Shoal.P2P.Protocol;

/// <summary>
/// Versions and limits of the Shoal peer protocol (see docs/p2p-protocol.md). Every length read
/// from the wire is checked against these before anything is allocated or buffered.
/// </summary>
public static class ProtocolConstants
{
    /// <summary>The highest protocol version this implementation speaks.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The lowest protocol version this implementation accepts.</summary>
    public const int MinimumVersion = 1;

    /// <summary>Bytes before the payload: a 4-byte big-endian length and the 1-byte type.</summary>
    public const int HeaderLength = 5;

    /// <summary>Bytes of the length prefix; the length counts the type byte and the payload.</summary>
    public const int LengthPrefixLength = 4;

    /// <summary>
    /// The largest block a request may ask for and a piece message may carry: 1 MiB. Bigger pieces
    /// are fetched as several blocks. Bounds each connection's receive buffer and keeps a control
    /// message queued behind a block to about 1 ms at 10 Gbit/s.
    /// </summary>
    public const int MaxBlockLength = 1 << 20;

    /// <summary>The most pieces a swarm may have: 2^20 (16 TiB at 16 MiB pieces); a bitfield is at most 128 KiB.</summary>
    public const int MaxPieceCount = 1 << 20;

    /// <summary>
    /// The most requests one side may have outstanding on a connection (sent, neither answered nor
    /// cancelled). A serving peer may close a connection that exceeds it with
    /// <see cref="PeerErrorCode.TooManyRequests"/>; its request queue is bounded by it.
    /// </summary>
    public const int MaxOutstandingRequests = 256;

    /// <summary>The largest bitfield payload, in bytes.</summary>
    public const int MaxBitfieldLength = MaxPieceCount / 8;

    /// <summary>The longest namespace in a handshake, in UTF-8 bytes.</summary>
    public const int MaxNamespaceLength = 1024;

    /// <summary>The longest error text, in UTF-8 bytes.</summary>
    public const int MaxErrorTextLength = 1024;

    /// <summary>The largest handshake frame (value of the length field) in any protocol version.</summary>
    public const int MaxHandshakeFrameLength = 4096;

    /// <summary>The largest frame (value of the length field) of any type: a piece message with a full block.</summary>
    public const int MaxFrameLength = 1 + PieceMessage.HeaderPayloadLength + MaxBlockLength;

    /// <summary>The magic bytes that open every handshake payload: ASCII "SHOAL".</summary>
    public static ReadOnlySpan<byte> Magic => "SHOAL"u8;
}
