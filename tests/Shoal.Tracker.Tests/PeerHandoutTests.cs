using Shoal.Clients.Tracker;
using Shoal.Tracker.Internal;

namespace Shoal.Tracker.Tests;

public sealed class PeerHandoutTests
{
    [Fact]
    public void Select_LimitSmallerThanTheSwarm_PrefersCompleteAgentsThenOrigins()
    {
        PeerInfo[] swarm =
        [
            TrackerHost.Peer(1), TrackerHost.Peer(2), TrackerHost.Peer(3),
            TrackerHost.Peer(4, complete: true, origin: true),
            TrackerHost.Peer(5, complete: true), TrackerHost.Peer(6, complete: true),
        ];

        var selected = PeerHandout.Select(swarm, TrackerHost.Peer(99), [], limit: 3);

        Assert.Equal([0, 0, 1], selected.Select(PeerHandout.Rank));
    }

    [Fact]
    public void Select_CallerInTheSwarmOrAtAConfiguredOriginsAddress_IsLeftOut()
    {
        var caller = TrackerHost.Peer(1);
        var stale = TrackerHost.Peer(1) with { Id = "ff" }; // the caller's address under an older id
        var origin = new PeerInfo("0c", caller.Ip, caller.Port, Origin: true, Complete: true);

        var selected = PeerHandout.Select([caller, stale, TrackerHost.Peer(2)], caller, [origin], limit: 10);

        Assert.Equal(20002, Assert.Single(selected).Port);
    }

    [Fact]
    public void Select_ConfiguredOriginAlsoAnnounced_IsHandedOutOnce()
    {
        var announced = new PeerInfo("0d", "10.0.0.1", 7000, Origin: true, Complete: true);
        var configured = new PeerInfo("0e", "10.0.0.1", 7000, Origin: true, Complete: true);

        var selected = PeerHandout.Select([announced], TrackerHost.Peer(1), [configured], limit: 10);

        Assert.Single(selected);
    }
}
