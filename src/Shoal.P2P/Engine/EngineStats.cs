namespace Shoal.P2P.Engine;

/// <summary>Counters of one engine (thread-safe; for metrics, logs and tests).</summary>
public sealed class EngineStats
{
    private long _pieceBytesReceived;
    private long _pieceBytesSent;
    private long _piecesVerified;
    private long _piecesCorrupt;
    private long _connectionsOpened;

    /// <summary>Piece data received (verified or not), in bytes.</summary>
    public long PieceBytesReceived => Interlocked.Read(ref _pieceBytesReceived);

    /// <summary>Piece data sent, in bytes.</summary>
    public long PieceBytesSent => Interlocked.Read(ref _pieceBytesSent);

    /// <summary>Pieces that passed their SHA-256 check.</summary>
    public long PiecesVerified => Interlocked.Read(ref _piecesVerified);

    /// <summary>Pieces that failed their SHA-256 check.</summary>
    public long PiecesCorrupt => Interlocked.Read(ref _piecesCorrupt);

    /// <summary>Connections that completed their handshake.</summary>
    public long ConnectionsOpened => Interlocked.Read(ref _connectionsOpened);

    internal void Received(long bytes) => Interlocked.Add(ref _pieceBytesReceived, bytes);

    internal void Sent(long bytes) => Interlocked.Add(ref _pieceBytesSent, bytes);

    internal void Verified() => Interlocked.Increment(ref _piecesVerified);

    internal void Corrupt() => Interlocked.Increment(ref _piecesCorrupt);

    internal void Opened() => Interlocked.Increment(ref _connectionsOpened);
}
