namespace Shoal.P2P.Engine;

/// <summary>Counters of one engine (thread-safe; for metrics, logs and tests).</summary>
public sealed class EngineStats
{
    private long _pieceBytesReceived;
    private long _pieceBytesFromOrigins;
    private long _pieceBytesSent;
    private long _piecesVerified;
    private long _piecesCorrupt;
    private long _connectionsOpened;
    private long _downloadsCompleted;
    private long _tlsOpened;
    private long _tlsFailed;

    /// <summary>Piece data received (verified or not), in bytes.</summary>
    public long PieceBytesReceived => Interlocked.Read(ref _pieceBytesReceived);

    /// <summary>The part of <see cref="PieceBytesReceived"/> that came from origins.</summary>
    public long PieceBytesFromOrigins => Interlocked.Read(ref _pieceBytesFromOrigins);

    /// <summary>Piece data sent, in bytes.</summary>
    public long PieceBytesSent => Interlocked.Read(ref _pieceBytesSent);

    /// <summary>Pieces that passed their SHA-256 check.</summary>
    public long PiecesVerified => Interlocked.Read(ref _piecesVerified);

    /// <summary>Pieces that failed their SHA-256 check.</summary>
    public long PiecesCorrupt => Interlocked.Read(ref _piecesCorrupt);

    /// <summary>Connections that completed their handshake.</summary>
    public long ConnectionsOpened => Interlocked.Read(ref _connectionsOpened);

    /// <summary>Downloads whose every piece was verified (committed or being committed).</summary>
    public long DownloadsCompleted => Interlocked.Read(ref _downloadsCompleted);

    /// <summary>Connections whose TLS handshake succeeded (dialled or accepted).</summary>
    public long TlsConnections => Interlocked.Read(ref _tlsOpened);

    /// <summary>Connections refused or lost before a TLS session: failed handshakes, untrusted certificates, plaintext refused by strict mode.</summary>
    public long TlsFailures => Interlocked.Read(ref _tlsFailed);

    /// <summary>Told of each completed download's duration in seconds (set once, by <see cref="EngineMetrics"/>).</summary>
    internal Action<double>? DownloadObserver { get; set; }

    internal void Received(long bytes, bool fromOrigin)
    {
        Interlocked.Add(ref _pieceBytesReceived, bytes);
        if (fromOrigin)
        {
            Interlocked.Add(ref _pieceBytesFromOrigins, bytes);
        }
    }

    internal void Sent(long bytes) => Interlocked.Add(ref _pieceBytesSent, bytes);

    internal void Verified() => Interlocked.Increment(ref _piecesVerified);

    internal void Corrupt() => Interlocked.Increment(ref _piecesCorrupt);

    internal void Opened() => Interlocked.Increment(ref _connectionsOpened);

    internal void TlsOpened() => Interlocked.Increment(ref _tlsOpened);

    internal void TlsFailed() => Interlocked.Increment(ref _tlsFailed);

    internal void Downloaded(double seconds)
    {
        Interlocked.Increment(ref _downloadsCompleted);
        DownloadObserver?.Invoke(seconds);
    }
}
