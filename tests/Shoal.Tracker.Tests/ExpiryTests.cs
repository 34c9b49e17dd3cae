using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shoal.Tracker.Internal;

namespace Shoal.Tracker.Tests;

/// <summary>Peer expiry through the HTTP API, with the tracker on fake time.</summary>
public sealed class ExpiryTests
{
    [Fact]
    public async Task Announce_PeerSilentForLongerThanTheTtl_IsNoLongerHandedOut()
    {
        var time = new FakeTimeProvider();
        await using var host = await TrackerHost.StartAsync(o => o.PeerTtl = TimeSpan.FromSeconds(30), time);
        var infoHash = TrackerHost.NewInfoHash();
        await host.AnnounceAsync(infoHash, TrackerHost.Peer(1));
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Single((await host.AnnounceAsync(infoHash, TrackerHost.Peer(2))).Peers);

        time.Advance(TimeSpan.FromSeconds(11)); // peer 1 silent for 31 s, peer 2 for 11 s

        var response = await host.AnnounceAsync(infoHash, TrackerHost.Peer(3));
        Assert.Equal(TrackerHost.Peer(2).Id, Assert.Single(response.Peers).Id);
    }

    [Fact]
    public async Task Announce_PeerThatKeepsAnnouncing_StaysInTheSwarm()
    {
        var time = new FakeTimeProvider();
        await using var host = await TrackerHost.StartAsync(o => o.PeerTtl = TimeSpan.FromSeconds(30), time);
        var infoHash = TrackerHost.NewInfoHash();
        for (var i = 0; i < 5; i++)
        {
            await host.AnnounceAsync(infoHash, TrackerHost.Peer(1));
            time.Advance(TimeSpan.FromSeconds(20));
        }

        var response = await host.AnnounceAsync(infoHash, TrackerHost.Peer(2));

        Assert.Equal(TrackerHost.Peer(1).Id, Assert.Single(response.Peers).Id);
    }

    [Fact]
    public async Task Sweep_SwarmWhosePeersAllExpired_IsDropped()
    {
        var time = new FakeTimeProvider();
        await using var host = await TrackerHost.StartAsync(o => o.PeerTtl = TimeSpan.FromSeconds(30), time);
        var store = Assert.IsType<InMemoryPeerStore>(host.Services.GetRequiredService<IPeerStore>());
        await host.AnnounceAsync(TrackerHost.NewInfoHash(), TrackerHost.Peer(1));
        await host.AnnounceAsync(TrackerHost.NewInfoHash(), TrackerHost.Peer(1));
        Assert.Equal(2, store.SwarmCount);

        time.Advance(TimeSpan.FromSeconds(61)); // the sweep runs every TTL

        Assert.Equal(0, store.SwarmCount);
    }
}
