namespace Shoal.P2P.Scheduling;

/// <summary>Tuning of a <see cref="PiecePicker"/>.</summary>
public sealed class PiecePickerOptions
{
    /// <summary>Timeout floor used by <see cref="RequestTimeoutFor"/>: 4 seconds.</summary>
    public static readonly TimeSpan MinimumRequestTimeout = TimeSpan.FromSeconds(4);

    /// <summary>
    /// How long a piece may stay requested from one peer before <see cref="PiecePicker.ExpireRequests"/>
    /// releases it for another peer. Default 30 seconds; <see cref="RequestTimeoutFor"/> derives one from the piece length.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most peers one piece may be requested from at once, reached only in endgame (when every
    /// missing piece is requested). 1 disables endgame duplicates. Default 2, range 1–16.
    /// </summary>
    public int MaxRequestsPerPiece { get; set; } = 2;

    /// <summary>
    /// In frontier mode, how many pieces from the frontier on are fetched in order before the
    /// rarest-first rule takes over again. Default 8 pieces, range 1–1024.
    /// </summary>
    public int FrontierWindow { get; set; } = 8;

    /// <summary>
    /// A request timeout that gives a piece of <paramref name="pieceLength"/> bytes at least 1 MiB/s,
    /// and never less than <see cref="MinimumRequestTimeout"/>: 4 s up to 4 MiB, 16 s for 16 MiB.
    /// </summary>
    public static TimeSpan RequestTimeoutFor(int pieceLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        var atFloorRate = TimeSpan.FromSeconds(pieceLength / (double)(1024 * 1024));
        return atFloorRate > MinimumRequestTimeout ? atFloorRate : MinimumRequestTimeout;
    }
}
