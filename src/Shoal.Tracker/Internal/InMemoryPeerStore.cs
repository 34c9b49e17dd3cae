using System.Collections.Concurrent;
using Shoal.Clients.Tracker;

namespace Shoal.Tracker.Internal;

/// <summary>
/// The peer store of a single tracker: swarms in memory, each bounded, each peer expiring
/// <c>ttl</c> after its last announce (by <see cref="TimeProvider"/>, so tests fake time). Expired
/// peers are removed whenever their swarm is touched, and a sweep every <c>ttl</c> drops swarms
/// nobody announced in.
/// </summary>
internal sealed class InMemoryPeerStore : IPeerStore, IDisposable
{
    private readonly ConcurrentDictionary<string, Swarm> _swarms = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly long _ttlTicks;
    private readonly int _maxPeersPerSwarm;
    private readonly ITimer _sweeper;

    public InMemoryPeerStore(TimeProvider time, TimeSpan ttl, int maxPeersPerSwarm)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPeersPerSwarm);
        _time = time;
        _ttlTicks = (long)Math.Ceiling(ttl.TotalSeconds * time.TimestampFrequency);
        _maxPeersPerSwarm = maxPeersPerSwarm;
        _sweeper = time.CreateTimer(static state => ((InMemoryPeerStore)state!).Sweep(), this, ttl, ttl);
    }

    /// <summary>Swarms currently held.</summary>
    public int SwarmCount => _swarms.Count;

    public ValueTask UpdatePeerAsync(string infoHash, PeerInfo peer, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        while (true)
        {
            var swarm = _swarms.GetOrAdd(infoHash, static _ => new Swarm());
            lock (swarm)
            {
                if (swarm.Dropped)
                {
                    continue; // the sweep removed it between our lookup and our lock
                }
                swarm.Expire(now);
                swarm.Update(peer, now + _ttlTicks, _maxPeersPerSwarm);
                return ValueTask.CompletedTask;
            }
        }
    }

    public ValueTask<IReadOnlyList<PeerInfo>> GetPeersAsync(string infoHash, int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0 || !_swarms.TryGetValue(infoHash, out var swarm))
        {
            return ValueTask.FromResult<IReadOnlyList<PeerInfo>>([]);
        }
        lock (swarm)
        {
            swarm.Expire(_time.GetTimestamp());
            return ValueTask.FromResult<IReadOnlyList<PeerInfo>>(swarm.Sample(limit));
        }
    }

    /// <summary>Expires peers in every swarm and drops the swarms left empty.</summary>
    public void Sweep()
    {
        var now = _time.GetTimestamp();
        foreach (var (infoHash, swarm) in _swarms)
        {
            lock (swarm)
            {
                swarm.Expire(now);
                if (swarm.Count == 0)
                {
                    swarm.Dropped = true;
                    _swarms.TryRemove(KeyValuePair.Create(infoHash, swarm));
                }
            }
        }
    }

    public void Dispose() => _sweeper.Dispose();
}
