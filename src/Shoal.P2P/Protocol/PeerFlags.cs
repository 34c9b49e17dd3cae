namespace Shoal.P2P.Protocol;

/// <summary>Role bits announced in the handshake (16 bits on the wire). Receivers ignore bits they do not know.</summary>
[Flags]
public enum PeerFlags : ushort
{
    /// <summary>An agent.</summary>
    None = 0,

    /// <summary>The sender is an origin: a seeder of last resort whose upload capacity is scarce.</summary>
    Origin = 1 << 0,

    /// <summary>
    /// The sender is downloading the blob and has fewer than two agent connections for it (a late
    /// joiner, or one whose peers left): a receiver with no slot free makes room for it rather than
    /// answering Busy, so full swarms cannot lock newcomers out.
    /// </summary>
    Needy = 1 << 1,
}
