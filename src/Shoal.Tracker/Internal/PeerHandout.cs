using Shoal.Clients.Tracker;

namespace Shoal.Tracker.Internal;

/// <summary>
/// Which peers an announcing peer is told about, and in which order — the "completeness" policy:
/// complete agents first (they can serve every piece and are not origins, which are the scarce
/// resource), then origins, then incomplete agents; random order within each class, so load
/// spreads over equals. The caller itself is never handed out.
/// </summary>
internal static class PeerHandout
{
    /// <summary>
    /// Up to <paramref name="limit"/> peers of <paramref name="swarm"/> other than
    /// <paramref name="caller"/>, plus every configured origin peer (deduplicated by address), in
    /// policy order.
    /// </summary>
    public static List<PeerInfo> Select(IReadOnlyList<PeerInfo> swarm, PeerInfo caller, IReadOnlyList<PeerInfo> originPeers, int limit)
    {
        var others = new List<PeerInfo>(swarm.Count + originPeers.Count);
        foreach (var peer in swarm)
        {
            if (!IsCaller(peer, caller))
            {
                others.Add(peer);
            }
        }
        var shuffled = others.ToArray();
        Random.Shared.Shuffle(shuffled);
        // OrderBy is stable: the shuffle decides the order within a class.
        var selected = shuffled.OrderBy(Rank).Take(limit).ToList();
        foreach (var origin in originPeers)
        {
            if (!IsCaller(origin, caller) && !selected.Exists(p => SameAddress(p, origin)))
            {
                selected.Add(origin);
            }
        }
        return [.. selected.OrderBy(Rank)];
    }

    /// <summary>0 for complete agents, 1 for origins, 2 for incomplete agents.</summary>
    internal static int Rank(PeerInfo peer) => peer.Origin ? 1 : peer.Complete ? 0 : 2;

    private static bool IsCaller(PeerInfo peer, PeerInfo caller)
        => string.Equals(peer.Id, caller.Id, StringComparison.Ordinal) || SameAddress(peer, caller);

    private static bool SameAddress(PeerInfo a, PeerInfo b)
        => a.Port == b.Port && string.Equals(a.Ip, b.Ip, StringComparison.OrdinalIgnoreCase);
}
