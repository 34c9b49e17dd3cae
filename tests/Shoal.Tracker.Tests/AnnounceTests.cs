using Shoal.Clients.Tracker;

namespace Shoal.Tracker.Tests;

public sealed class AnnounceTests
{
    [Fact]
    public async Task Announce_FirstPeer_GetsNoPeersAndTheInterval()
    {
        await using var host = await TrackerHost.StartAsync(o => o.AnnounceInterval = TimeSpan.FromSeconds(4));

        var response = await host.AnnounceAsync(TrackerHost.NewInfoHash(), TrackerHost.Peer(1));

        Assert.Empty(response.Peers);
        Assert.Equal(4, response.IntervalSeconds);
    }

    [Fact]
    public async Task Announce_CompletePeer_GetsTheSeederInterval_DownloaderTheShortOne()
    {
        await using var host = await TrackerHost.StartAsync(o => o.AnnounceInterval = TimeSpan.FromSeconds(2));
        var infoHash = TrackerHost.NewInfoHash();

        var seeder = await host.AnnounceAsync(infoHash, TrackerHost.Peer(1, complete: true));
        var downloader = await host.AnnounceAsync(infoHash, TrackerHost.Peer(2));

        Assert.Equal(10, seeder.IntervalSeconds); // a third of the 30 s peer TTL
        Assert.Equal(2, downloader.IntervalSeconds);
    }

    [Fact]
    public async Task Announce_SeederIntervalConfigured_IsHandedToCompletePeers()
    {
        await using var host = await TrackerHost.StartAsync(o => o.SeederAnnounceInterval = TimeSpan.FromSeconds(7));

        var response = await host.AnnounceAsync(TrackerHost.NewInfoHash(), TrackerHost.Peer(1, complete: true));

        Assert.Equal(7, response.IntervalSeconds);
    }

    [Fact]
    public async Task Announce_SeveralPeers_EachGetsTheOthersAndNeverItself()
    {
        await using var host = await TrackerHost.StartAsync();
        var infoHash = TrackerHost.NewInfoHash();
        var peers = Enumerable.Range(1, 4).Select(i => TrackerHost.Peer(i)).ToArray();
        foreach (var peer in peers)
        {
            await host.AnnounceAsync(infoHash, peer);
        }

        foreach (var peer in peers)
        {
            var response = await host.AnnounceAsync(infoHash, peer);

            Assert.DoesNotContain(response.Peers, p => p.Id == peer.Id);
            Assert.Equal(peers.Where(p => p != peer).Select(p => p.Id).Order(), response.Peers.Select(p => p.Id).Order());
        }
    }

    [Fact]
    public async Task Announce_DifferentInfoHashes_AreSeparateSwarms()
    {
        await using var host = await TrackerHost.StartAsync();
        var first = TrackerHost.NewInfoHash();
        var second = TrackerHost.NewInfoHash();
        await host.AnnounceAsync(first, TrackerHost.Peer(1));

        var response = await host.AnnounceAsync(second, TrackerHost.Peer(2));

        Assert.Empty(response.Peers);
    }

    [Fact]
    public async Task Announce_ReannounceWithNewState_ReplacesThePeer()
    {
        await using var host = await TrackerHost.StartAsync();
        var infoHash = TrackerHost.NewInfoHash();
        await host.AnnounceAsync(infoHash, TrackerHost.Peer(1));
        await host.AnnounceAsync(infoHash, TrackerHost.Peer(1, complete: true));

        var response = await host.AnnounceAsync(infoHash, TrackerHost.Peer(2));

        var seen = Assert.Single(response.Peers);
        Assert.True(seen.Complete);
    }

    [Fact]
    public async Task Announce_UppercasePeerId_IsTheSamePeerAsLowercase()
    {
        await using var host = await TrackerHost.StartAsync();
        var infoHash = TrackerHost.NewInfoHash();
        var peer = TrackerHost.Peer(0xab);
        await host.AnnounceAsync(infoHash, peer with { Id = peer.Id.ToUpperInvariant() });

        var response = await host.AnnounceAsync(infoHash, peer);

        Assert.Empty(response.Peers);
    }

    [Fact]
    public async Task Announce_MixedSwarm_OrdersCompleteAgentsThenOriginsThenIncompleteAgents()
    {
        await using var host = await TrackerHost.StartAsync(o => o.OriginPeers = ["127.0.0.2:7000"]);
        var infoHash = TrackerHost.NewInfoHash();
        // Announced in the reverse of the policy's order, so insertion order cannot pass for it.
        for (var i = 1; i <= 3; i++)
        {
            await host.AnnounceAsync(infoHash, TrackerHost.Peer(i));
        }
        await host.AnnounceAsync(infoHash, TrackerHost.Peer(10, complete: true, origin: true));
        for (var i = 20; i <= 22; i++)
        {
            await host.AnnounceAsync(infoHash, TrackerHost.Peer(i, complete: true));
        }

        var response = await host.AnnounceAsync(infoHash, TrackerHost.Peer(99));

        Assert.Equal([0, 0, 0, 1, 1, 2, 2, 2], response.Peers.Select(Class));
        Assert.Contains(response.Peers, p => p is { Origin: true, Ip: "127.0.0.2", Port: 7000 });
        Assert.Contains(response.Peers, p => p.Id == TrackerHost.Peer(10).Id);
    }

    [Fact]
    public async Task Announce_Repeatedly_ShufflesPeersWithinAClass()
    {
        await using var host = await TrackerHost.StartAsync();
        var infoHash = TrackerHost.NewInfoHash();
        for (var i = 1; i <= 4; i++)
        {
            await host.AnnounceAsync(infoHash, TrackerHost.Peer(i, complete: true));
        }

        var orders = new HashSet<string>();
        for (var attempt = 0; attempt < 30; attempt++)
        {
            var response = await host.AnnounceAsync(infoHash, TrackerHost.Peer(99));
            orders.Add(string.Join(',', response.Peers.Select(p => p.Port)));
        }

        // 24 orders are possible; all 30 answers agreeing would mean no shuffling (odds 24^-29).
        Assert.True(orders.Count > 1);
    }

    [Fact]
    public async Task Announce_SwarmLargerThanTheLimit_HandsOutAtMostTheLimitPlusConfiguredOrigins()
    {
        await using var host = await TrackerHost.StartAsync(o =>
        {
            o.MaxPeersPerAnnounce = 5;
            o.OriginPeers = ["origin-1.example:7000", "[::1]:7001"];
        });
        var infoHash = TrackerHost.NewInfoHash();
        for (var i = 1; i <= 12; i++)
        {
            await host.AnnounceAsync(infoHash, TrackerHost.Peer(i, complete: i % 2 == 0));
        }

        var response = await host.AnnounceAsync(infoHash, TrackerHost.Peer(1));

        Assert.Equal(7, response.Peers.Count);
        Assert.Equal(5, response.Peers.Count(p => !p.Origin));
        Assert.Equal(response.Peers.Count, response.Peers.Select(p => p.Id).Distinct().Count());
        Assert.DoesNotContain(response.Peers, p => p.Id == TrackerHost.Peer(1).Id);
        Assert.Contains(response.Peers, p => p is { Origin: true, Ip: "origin-1.example", Port: 7000 });
        Assert.Contains(response.Peers, p => p is { Origin: true, Ip: "::1", Port: 7001 });
    }

    [Fact]
    public async Task Announce_ByAConfiguredOrigin_DoesNotHandItItself()
    {
        await using var host = await TrackerHost.StartAsync(o => o.OriginPeers = ["127.0.0.1:7000", "127.0.0.1:7001"]);
        var self = new PeerInfo("0a0b", "127.0.0.1", 7000, Origin: true, Complete: true);

        var response = await host.AnnounceAsync(TrackerHost.NewInfoHash(), self);

        var other = Assert.Single(response.Peers);
        Assert.Equal(7001, other.Port);
    }

    [Fact]
    public async Task Announce_UnspecifiedAddress_IsReplacedByTheConnectionsAddress()
    {
        await using var host = await TrackerHost.StartAsync();
        var infoHash = TrackerHost.NewInfoHash();
        await host.AnnounceAsync(infoHash, TrackerHost.Peer(1) with { Ip = "0.0.0.0" });

        var response = await host.AnnounceAsync(infoHash, TrackerHost.Peer(2));

        Assert.Equal("127.0.0.1", Assert.Single(response.Peers).Ip);
    }

    private static int Class(PeerInfo peer) => peer.Origin ? 1 : peer.Complete ? 0 : 2;
}
