using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shoal.Clients.Tracker;
using Shoal.TestKit;
using Shoal.Tracker.Internal;
using StackExchange.Redis;

namespace Shoal.Tracker.Tests;

/// <summary>The Redis peer store against a real redis-server, alone and behind two trackers.</summary>
[Trait("Category", "E2E")]
public sealed class RedisPeerStoreTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private ConnectionMultiplexer _connection = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _redis?.Dispose();
    }

    [E2EFact(ToolCheck.RedisServer)]
    public async Task Update_ThenGet_ReturnsEveryPeerWithItsLatestFlags()
    {
        var store = Store(new FakeTimeProvider(DateTimeOffset.UtcNow));
        var swarm = TrackerHost.NewInfoHash();
        await store.UpdatePeerAsync(swarm, TrackerHost.Peer(1), default);
        await store.UpdatePeerAsync(swarm, TrackerHost.Peer(2, origin: true), default);
        await store.UpdatePeerAsync(swarm, TrackerHost.Peer(1, complete: true), default);

        var peers = await store.GetPeersAsync(swarm, 10, default);
        Assert.Equal([TrackerHost.Peer(1, complete: true), TrackerHost.Peer(2, origin: true)], peers.OrderBy(p => p.Id));
        Assert.Empty(await store.GetPeersAsync(TrackerHost.NewInfoHash(), 10, default));
        Assert.Empty(await store.GetPeersAsync(swarm, 0, default));
    }

    [E2EFact(ToolCheck.RedisServer)]
    public async Task Get_AfterTtlWithoutAnnounce_PeerIsGone()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = Store(time, ttl: TimeSpan.FromSeconds(30));
        var swarm = TrackerHost.NewInfoHash();
        await store.UpdatePeerAsync(swarm, TrackerHost.Peer(1), default);
        time.Advance(TimeSpan.FromSeconds(20));
        await store.UpdatePeerAsync(swarm, TrackerHost.Peer(2), default);

        time.Advance(TimeSpan.FromSeconds(15)); // peer 1 silent for 35 s, peer 2 for 15 s
        Assert.Equal([TrackerHost.Peer(2)], await store.GetPeersAsync(swarm, 10, default));
    }

    [E2EFact(ToolCheck.RedisServer)]
    public async Task Update_FullSwarm_LongestSilentPeerMakesRoom()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = Store(time, maxPeersPerSwarm: 3);
        var swarm = TrackerHost.NewInfoHash();
        for (var n = 1; n <= 3; n++)
        {
            await store.UpdatePeerAsync(swarm, TrackerHost.Peer(n), default);
            time.Advance(TimeSpan.FromSeconds(1));
        }
        await store.UpdatePeerAsync(swarm, TrackerHost.Peer(1), default); // refreshed: now the freshest
        await store.UpdatePeerAsync(swarm, TrackerHost.Peer(4), default);

        var ids = (await store.GetPeersAsync(swarm, 10, default)).Select(p => p.Id).Order().ToList();
        Assert.Equal([TrackerHost.Peer(1).Id, TrackerHost.Peer(3).Id, TrackerHost.Peer(4).Id], ids);
    }

    [E2EFact(ToolCheck.RedisServer)]
    public async Task Get_LargeSwarm_DistinctRandomSampleOfTheLimit()
    {
        var store = Store(new FakeTimeProvider(DateTimeOffset.UtcNow), maxPeersPerSwarm: 1000);
        var swarm = TrackerHost.NewInfoHash();
        for (var n = 0; n < 200; n++)
        {
            await store.UpdatePeerAsync(swarm, TrackerHost.Peer(n), default);
        }

        var first = await store.GetPeersAsync(swarm, 10, default);
        Assert.Equal(10, first.Select(p => p.Id).Distinct().Count());
        Assert.Equal(200, (await store.GetPeersAsync(swarm, 500, default)).Count);
        var seen = new HashSet<string>();
        for (var i = 0; i < 10; i++)
        {
            seen.UnionWith((await store.GetPeersAsync(swarm, 10, default)).Select(p => p.Id));
        }
        Assert.True(seen.Count > 30, $"ten samples of 10 out of 200 covered only {seen.Count} peers");
    }

    [E2EFact(ToolCheck.RedisServer)]
    public async Task IdleSwarm_KeysExpireWithTheLastPeer()
    {
        var prefix = "idle:" + Guid.NewGuid().ToString("N") + ":";
        // A peer TTL of 3 s: long enough that listing the keys right after the announce finds them on
        // a loaded machine (500 ms was not, once), short enough to watch them go.
        var store = new RedisPeerStore(_connection, prefix, TimeProvider.System, TimeSpan.FromSeconds(3), 100);
        var swarm = TrackerHost.NewInfoHash();
        await store.UpdatePeerAsync(swarm, TrackerHost.Peer(1), default);
        var keys = _connection.GetServer(_connection.GetEndPoints()[0]).Keys(pattern: prefix + "*").ToList();
        Assert.Equal(2, keys.Count);

        await Poll.UntilAsync(() => !keys.Any(k => _connection.GetDatabase().KeyExists(k)), timeoutSeconds: 15);
    }

    [E2EFact(ToolCheck.RedisServer)]
    public async Task TwoTrackers_OneRedis_AnAnnounceToOneIsHandedOutByTheOther()
    {
        var prefix = "pair:" + Guid.NewGuid().ToString("N") + ":";
        await using var a = await TrackerHost.StartAsync(o => o.Redis = new RedisPeerStoreOptions { Configuration = _redis.Configuration, KeyPrefix = prefix });
        await using var b = await TrackerHost.StartAsync(o => o.Redis = new RedisPeerStoreOptions { Configuration = _redis.Configuration, KeyPrefix = prefix });
        var swarm = TrackerHost.NewInfoHash();

        var first = await a.AnnounceAsync(swarm, TrackerHost.Peer(1, complete: true));
        var second = await b.AnnounceAsync(swarm, TrackerHost.Peer(2));

        Assert.Empty(first.Peers);
        Assert.Equal([TrackerHost.Peer(1, complete: true)], second.Peers);
        Assert.Equal([TrackerHost.Peer(2)], (await a.AnnounceAsync(swarm, TrackerHost.Peer(1, complete: true))).Peers);
    }

    [E2EFact(ToolCheck.RedisServer)]
    public async Task RedisDown_AnnouncesGetTheOriginsOnlyAndTrackerNotReady_UntilRedisIsBack()
    {
        const string originPeer = "127.0.0.1:7000";
        await using var tracker = await TrackerHost.StartAsync(o =>
        {
            o.Redis = new RedisPeerStoreOptions { Configuration = _redis.Configuration + ",connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000" };
            o.OriginPeers = [originPeer];
        });
        var swarm = TrackerHost.NewInfoHash();
        await tracker.AnnounceAsync(swarm, TrackerHost.Peer(1));
        Assert.Equal(HttpStatusCode.OK, (await tracker.Http.GetAsync("readiness")).StatusCode);

        await _redis.StopAsync();
        var degraded = await tracker.AnnounceAsync(swarm, TrackerHost.Peer(2));
        Assert.Equal(["127.0.0.1:7000"], degraded.Peers.Select(p => $"{p.Ip}:{p.Port}"));
        Assert.True(degraded.Peers[0].Origin);
        Assert.Contains("shoal_tracker_announces_total{outcome=\"degraded\"} 1\n", tracker.Services.GetRequiredService<Hosting.Metrics.PrometheusMetrics>().Write(), StringComparison.Ordinal);
        using (var readiness = await tracker.Http.GetAsync("readiness"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
            Assert.Contains("Redis", await readiness.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await _redis.RestartAsync(); // empty: the swarm fills again as peers announce
        await Poll.UntilAsync(() => tracker.Http.GetAsync("readiness").GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK, timeoutSeconds: 30);
        await tracker.AnnounceAsync(swarm, TrackerHost.Peer(2));
        var third = await tracker.AnnounceAsync(swarm, TrackerHost.Peer(3));
        Assert.Contains(TrackerHost.Peer(2), third.Peers);
    }

    private RedisPeerStore Store(TimeProvider time, TimeSpan? ttl = null, int maxPeersPerSwarm = 100) =>
        new(_connection, "test:" + Guid.NewGuid().ToString("N") + ":", time, ttl ?? TimeSpan.FromSeconds(30), maxPeersPerSwarm);
}

/// <summary>The <c>tracker:redis</c> options (no Redis needed).</summary>
public sealed class RedisPeerStoreOptionsTests
{
    [Theory]
    [InlineData("")]
    [InlineData("password=secret")]
    [InlineData("127.0.0.1:6379,nonsense=1")]
    public void Build_BadConfiguration_NamesTheKey(string configuration)
    {
        var options = new TrackerOptions { Listen = { Port = 0 }, Origins = [TrackerHost.UnusedOrigin], Redis = new RedisPeerStoreOptions { Configuration = configuration } };
        var ex = Assert.Throws<Hosting.ConfigurationException>(() => TrackerServer.Build(options));
        Assert.Contains("tracker:redis:configuration", ex.Message, StringComparison.Ordinal);
    }
}
