using Shoal.Core.Blobs;

namespace Shoal.P2P.Engine;

/// <summary>A peer address handed out by the tracker.</summary>
/// <param name="Host">An IP address or a host name.</param>
/// <param name="Port">The peer's P2P port.</param>
/// <param name="IsOrigin">True for an origin.</param>
/// <param name="Id">
/// The peer's id when the tracker knows it: a peer already connected to us (for example one that
/// dialled us, which we know only by its ephemeral address) is then not dialled a second time.
/// </param>
public readonly record struct PeerAddress(string Host, int Port, bool IsOrigin, PeerId? Id = null)
{
    /// <inheritdoc />
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>What an announce returned: peers to connect to and when to announce again.</summary>
public sealed record AnnounceResult(IReadOnlyList<PeerAddress> Peers, TimeSpan Interval);

/// <summary>Tells the tracker this peer is in a swarm, and learns other peers (the engine's seam to the tracker; faked in tests).</summary>
public interface IAnnouncer
{
    /// <summary>Announces this peer in the swarm of <paramref name="info"/>; throws when the tracker cannot be reached.</summary>
    Task<AnnounceResult> AnnounceAsync(MetaInfo info, string? @namespace, PeerId self, int port, bool complete, CancellationToken cancellationToken);
}
