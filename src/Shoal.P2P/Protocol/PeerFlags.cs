namespace Shoal.P2P.Protocol;

/// <summary>Role bits announced in the handshake (16 bits on the wire). Receivers ignore bits they do not know.</summary>
[Flags]
public enum PeerFlags : ushort
{
    /// <summary>An agent.</summary>
    None = 0,

    /// <summary>The sender is an origin: a seeder of last resort whose upload capacity is scarce.</summary>
    Origin = 1 << 0,
}
