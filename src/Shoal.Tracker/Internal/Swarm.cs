using Shoal.Clients.Tracker;

namespace Shoal.Tracker.Internal;

/// <summary>
/// The peers of one info hash, bounded, each with an expiry. Kept both in an array (for uniform
/// random selection in O(limit)) and in announce order (for expiry and eviction in O(1) per peer).
/// Not thread-safe: <see cref="InMemoryPeerStore"/> locks the swarm around every call.
/// </summary>
internal sealed class Swarm
{
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<string, Entry> _byId = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _byAnnounce = new();

    /// <summary>Set once the store has dropped this swarm; a writer that still holds it must look it up again.</summary>
    public bool Dropped { get; set; }

    /// <summary>Peers currently in the swarm (expired ones included until the next <see cref="Expire"/>).</summary>
    public int Count => _entries.Count;

    /// <summary>Adds or refreshes <paramref name="peer"/> (by id); evicts the stalest peer when <paramref name="capacity"/> is reached.</summary>
    public void Update(PeerInfo peer, long expiresAt, int capacity)
    {
        if (_byId.TryGetValue(peer.Id, out var entry))
        {
            entry.Peer = peer;
            entry.ExpiresAt = expiresAt;
            _byAnnounce.Remove(entry.Node);
            _byAnnounce.AddLast(entry.Node);
            return;
        }
        while (_entries.Count >= capacity && _byAnnounce.First is { } stalest)
        {
            Remove(stalest.Value);
        }
        entry = new Entry(peer, expiresAt, _entries.Count);
        _entries.Add(entry);
        _byId.Add(peer.Id, entry);
        _byAnnounce.AddLast(entry.Node);
    }

    /// <summary>Removes every peer whose expiry is at or before <paramref name="now"/>.</summary>
    public void Expire(long now)
    {
        // Every peer has the same time to live, so announce order is expiry order.
        while (_byAnnounce.First is { } oldest && oldest.Value.ExpiresAt <= now)
        {
            Remove(oldest.Value);
        }
    }

    /// <summary>Up to <paramref name="limit"/> distinct peers chosen uniformly at random.</summary>
    public PeerInfo[] Sample(int limit)
    {
        var count = _entries.Count;
        if (count <= limit)
        {
            var all = new PeerInfo[count];
            for (var i = 0; i < count; i++)
            {
                all[i] = _entries[i].Peer;
            }
            return all;
        }
        // Floyd's algorithm: limit distinct indices out of count in O(limit).
        var chosen = new HashSet<int>(limit);
        for (var j = count - limit; j < count; j++)
        {
            var t = Random.Shared.Next(j + 1);
            chosen.Add(chosen.Contains(t) ? j : t);
        }
        var sample = new PeerInfo[limit];
        var k = 0;
        foreach (var index in chosen)
        {
            sample[k++] = _entries[index].Peer;
        }
        return sample;
    }

    private void Remove(Entry entry)
    {
        // Swap-remove keeps the array dense without shifting.
        var last = _entries[^1];
        _entries[entry.Index] = last;
        last.Index = entry.Index;
        _entries.RemoveAt(_entries.Count - 1);
        _byId.Remove(entry.Peer.Id);
        _byAnnounce.Remove(entry.Node);
    }

    private sealed class Entry
    {
        public Entry(PeerInfo peer, long expiresAt, int index)
        {
            Peer = peer;
            ExpiresAt = expiresAt;
            Index = index;
            Node = new LinkedListNode<Entry>(this);
        }

        public PeerInfo Peer { get; set; }

        public long ExpiresAt { get; set; }

        public int Index { get; set; }

        public LinkedListNode<Entry> Node { get; }
    }
}
