using System.Diagnostics.Metrics;

namespace Shoal.P2P.Engine;

/// <summary>
/// The engine's instruments on the meter <c>Shoal.P2P</c> (created through the host's
/// <see cref="IMeterFactory"/>, so that the host's <c>/metrics</c> reports them): the
/// <see cref="EngineStats"/> totals as observable counters, open swarms and connections as gauges,
/// and a histogram of download durations. Reading them costs the engine nothing per piece.
/// </summary>
internal static class EngineMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Shoal.P2P";

    /// <summary>Bucket boundaries of the download-duration histogram, in seconds.</summary>
    private static readonly double[] DurationBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000];

    public static void Register(PeerEngine engine, IMeterFactory factory)
    {
        var meter = factory.Create(MeterName);
        var stats = engine.Stats;
        meter.CreateObservableCounter("shoal.p2p.piece_bytes.received", () => new[]
        {
            new Measurement<long>(stats.PieceBytesFromOrigins, new KeyValuePair<string, object?>("source", "origin")),
            new Measurement<long>(stats.PieceBytesReceived - stats.PieceBytesFromOrigins, new KeyValuePair<string, object?>("source", "agent")),
        }, "By", "Piece data received from peers (before verification), by the kind of peer that sent it.");
        meter.CreateObservableCounter("shoal.p2p.piece_bytes.sent", () => stats.PieceBytesSent, "By", "Piece data sent to peers.");
        meter.CreateObservableCounter("shoal.p2p.pieces.verified", () => stats.PiecesVerified, "{piece}", "Pieces received that passed their SHA-256 check.");
        meter.CreateObservableCounter("shoal.p2p.pieces.corrupt", () => stats.PiecesCorrupt, "{piece}", "Pieces received that failed their SHA-256 check (the sender is banned from the swarm).");
        meter.CreateObservableCounter("shoal.p2p.connections.opened", () => stats.ConnectionsOpened, "{connection}", "Peer connections that completed their handshake.");
        meter.CreateObservableCounter("shoal.p2p.tls.handshakes", () => new[]
        {
            new Measurement<long>(stats.TlsConnections, new KeyValuePair<string, object?>("outcome", "ok")),
            new Measurement<long>(stats.TlsFailures, new KeyValuePair<string, object?>("outcome", "failed")),
        }, "{connection}", "Peer connections by the outcome of their TLS set-up (failed: handshake errors, untrusted certificates, plaintext refused in strict mode).");
        meter.CreateObservableCounter("shoal.p2p.downloads.completed", () => stats.DownloadsCompleted, "{download}", "Swarm downloads whose every piece was verified.");
        meter.CreateObservableGauge("shoal.p2p.connections", () => engine.ConnectionCount, "{connection}", "Open peer connections.");
        meter.CreateObservableGauge("shoal.p2p.swarms", () => engine.SwarmCount, "{swarm}", "Open swarms (downloading or seeding).");
        var durations = meter.CreateHistogram("shoal.p2p.download.duration", "s", "Time from joining a blob's swarm to holding every verified piece.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        stats.DownloadObserver = seconds => durations.Record(seconds);
    }
}
