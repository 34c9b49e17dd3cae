using Shoal.Clients.Tracker;

namespace Shoal.Tracker;

/// <summary>
/// The tracker's record of swarms: per info hash, the peers that announced recently. Entries expire
/// when a peer stops announcing; the hand-out policy (which peers, in which order) is not the
/// store's business. Implementations: in memory (one tracker); a shared store (Redis) lets several
/// trackers serve one cluster.
/// </summary>
public interface IPeerStore
{
    /// <summary>Adds <paramref name="peer"/> to the swarm of <paramref name="infoHash"/>, or refreshes it (same id), restarting its time to live.</summary>
    ValueTask UpdatePeerAsync(string infoHash, PeerInfo peer, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> live peers of the swarm, a random selection when it has more; empty for an unknown swarm.</summary>
    ValueTask<IReadOnlyList<PeerInfo>> GetPeersAsync(string infoHash, int limit, CancellationToken cancellationToken);
}
