using Microsoft.Extensions.Time.Testing;
using Shoal.Tracker.Internal;

namespace Shoal.Tracker.Tests;

public sealed class InMemoryPeerStoreTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task GetPeers_UnknownSwarm_IsEmpty()
    {
        using var store = new InMemoryPeerStore(_time, Ttl, 100);

        Assert.Empty(await store.GetPeersAsync(TrackerHost.NewInfoHash(), 10, Ct));
    }

    [Fact]
    public async Task GetPeers_LimitBelowSwarmSize_ReturnsThatManyDistinctPeers()
    {
        using var store = new InMemoryPeerStore(_time, Ttl, 100);
        var infoHash = TrackerHost.NewInfoHash();
        for (var i = 0; i < 40; i++)
        {
            await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(i), Ct);
        }

        var peers = await store.GetPeersAsync(infoHash, 15, Ct);

        Assert.Equal(15, peers.Count);
        Assert.Equal(15, peers.Select(p => p.Id).Distinct().Count());
    }

    [Fact]
    public async Task GetPeers_RepeatedSamples_ReachEveryPeer()
    {
        using var store = new InMemoryPeerStore(_time, Ttl, 100);
        var infoHash = TrackerHost.NewInfoHash();
        for (var i = 0; i < 20; i++)
        {
            await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(i), Ct);
        }

        var seen = new HashSet<string>();
        for (var round = 0; round < 200 && seen.Count < 20; round++)
        {
            foreach (var peer in await store.GetPeersAsync(infoHash, 3, Ct))
            {
                seen.Add(peer.Id);
            }
        }

        Assert.Equal(20, seen.Count);
    }

    [Fact]
    public async Task Update_FullSwarm_EvictsThePeerThatAnnouncedLongestAgo()
    {
        using var store = new InMemoryPeerStore(_time, Ttl, 3);
        var infoHash = TrackerHost.NewInfoHash();
        await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(1), Ct);
        await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(2), Ct);
        await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(3), Ct);
        await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(1), Ct); // refresh: 2 is now the stalest

        await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(4), Ct);

        var ports = (await store.GetPeersAsync(infoHash, 10, Ct)).Select(p => p.Port).Order();
        Assert.Equal([20001, 20003, 20004], ports);
    }

    [Fact]
    public async Task GetPeers_AfterTtl_OmitsExpiredPeersEvenBeforeTheSweep()
    {
        using var store = new InMemoryPeerStore(_time, Ttl, 100);
        var infoHash = TrackerHost.NewInfoHash();
        _time.Advance(TimeSpan.FromSeconds(5));
        await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(1), Ct); // expires at 35 s
        _time.Advance(TimeSpan.FromSeconds(10));
        await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(2), Ct); // expires at 45 s

        _time.Advance(TimeSpan.FromSeconds(25)); // 40 s: the sweep at 30 s kept both, the next is at 60 s

        var peers = await store.GetPeersAsync(infoHash, 10, Ct);
        Assert.Equal(20002, Assert.Single(peers).Port);
    }

    [Fact]
    public async Task Update_AfterTheSweepDroppedTheSwarm_StartsANewOne()
    {
        using var store = new InMemoryPeerStore(_time, Ttl, 100);
        var infoHash = TrackerHost.NewInfoHash();
        await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(1), Ct);
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(0, store.SwarmCount);

        await store.UpdatePeerAsync(infoHash, TrackerHost.Peer(2), Ct);

        Assert.Equal(20002, Assert.Single(await store.GetPeersAsync(infoHash, 10, Ct)).Port);
    }

    [Fact]
    public async Task UpdateAndSweep_Concurrently_LoseNoLivePeer()
    {
        using var store = new InMemoryPeerStore(_time, Ttl, 10_000);
        var infoHashes = Enumerable.Range(0, 8).Select(_ => TrackerHost.NewInfoHash()).ToArray();

        var writers = infoHashes.Select(h => Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                await store.UpdatePeerAsync(h, TrackerHost.Peer(i), Ct);
            }
        }));
        var sweeper = Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                store.Sweep();
            }
        });
        await Task.WhenAll([.. writers, sweeper]);

        foreach (var infoHash in infoHashes)
        {
            Assert.Equal(500, (await store.GetPeersAsync(infoHash, 1000, Ct)).Count);
        }
    }
}
