namespace Shoal.P2P.Scheduling;

/// <summary>
/// How much a download keeps requested from one peer: enough to keep that peer's deliveries to us
/// going without a gap, and no more. Whatever is asked beyond that waits in the peer's upload queue,
/// behind the other downloaders' requests, where it is committed to a peer that is already busy:
/// every piece then takes that long to pass one hop, and peers that got the same piece later (with
/// upload to spare) are never asked for it. In a 16-host swarm pulling together, keeping 0.25 s of
/// each peer's rate (at least 512 KiB) requested left the agents that no origin fed sending at half
/// their link while the others' queues grew; 0.1 s (at least 128 KiB) measured 4 % faster there,
/// and 9 % faster with 8 % less CPU at 32 hosts (docs/benchmarks.md, *Shallower pipelines*).
/// </summary>
/// <remarks>
/// A pipeline sized from the rate alone feeds on itself: a peer can deliver at most what is
/// requested per round trip, so where the round trip is longer than the pipeline's seconds, each
/// rate sample is lower than the last and the pipeline shrinks to its floor (a lone agent dialling
/// an origin in another region). So the seconds are also at least <see cref="LatencyMultiple"/>
/// times the shortest time a piece took from request to arrival lately (about one round trip plus
/// one piece's transfer): the pipeline then always covers more than the round trip and can grow.
/// </remarks>
public static class RequestPipeline
{
    /// <summary>Seconds of a peer's rate kept requested where round trips are short.</summary>
    public const double Seconds = 0.1;

    /// <summary>The pipeline covers at least this many times a piece's shortest request-to-arrival time.</summary>
    public const double LatencyMultiple = 2;

    /// <summary>The least kept requested from any peer (a new peer, or a slow one).</summary>
    public const long MinBytes = 128L * 1024;

    /// <summary>The most kept requested from any peer.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>
    /// How many pieces to keep requested from a peer that delivers <paramref name="rate"/> bytes per
    /// second to us and whose pieces took at least <paramref name="minLatency"/> from request to
    /// arrival lately (zero: not known yet), at most <paramref name="maxPieces"/> and at least one.
    /// </summary>
    public static int Pieces(double rate, TimeSpan minLatency, int pieceLength, int maxPieces)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPieces);
        var seconds = Math.Max(Seconds, LatencyMultiple * minLatency.TotalSeconds);
        var bytes = Math.Clamp((long)(Math.Max(0, rate) * seconds), MinBytes, MaxBytes);
        var pieces = (int)Math.Ceiling(bytes / (double)pieceLength);
        return Math.Clamp(pieces, 1, maxPieces);
    }
}

/// <summary>
/// The shortest of recent samples (request-to-arrival times of pieces from one peer): a sample older
/// than the window gives way to the next one, so a minimum from a quieter moment does not stay for
/// ever. Not thread-safe (the swarm loop owns it).
/// </summary>
public struct RecentMinimum
{
    /// <summary>How long a minimum stands before a larger sample may replace it.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    private long _at;

    /// <summary>The shortest recent sample; zero before the first.</summary>
    public TimeSpan Value { get; private set; }

    /// <summary>Adds a sample taken at <paramref name="now"/> (a timestamp of <paramref name="time"/>).</summary>
    public void Add(TimeSpan sample, long now, TimeProvider time)
    {
        if (Value == TimeSpan.Zero || sample <= Value || time.GetElapsedTime(_at, now) > Window)
        {
            Value = sample;
            _at = now;
        }
    }
}
