using Shoal.TestKit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Hosting;
using Shoal.Origin;
using Shoal.P2P;
using Shoal.P2P.Engine;
using Shoal.Tracker;

namespace Shoal.Agent.Tests;

/// <summary>
/// One origin seeding over P2P, a tracker that hands it out, and agents downloading through the
/// swarm — all real hosts and sockets on loopback, every port 0.
/// </summary>
internal sealed class SwarmCluster : IAsyncDisposable
{
    /// <summary>An address nothing listens on: the swarm tests never resolve tags.</summary>
    private static readonly Uri NoBuildIndex = new("http://127.0.0.1:9/");

    private readonly HttpClient _http = new();
    private readonly List<AgentHost> _agents = [];
    private WebApplication? _tracker;
    private int _trackerPort;
    private Action<TrackerOptions>? _tweakTracker;

    private SwarmCluster(TempDirectory dir, WebApplication origin)
    {
        Dir = dir;
        OriginApp = origin;
        Origin = new OriginClient(_http, origin.BaseAddress());
    }

    public TempDirectory Dir { get; }

    public WebApplication OriginApp { get; }

    public OriginClient Origin { get; }

    public PeerEngine OriginEngine => OriginApp.Services.GetRequiredService<PeerEngine>();

    public Uri TrackerAddress => new($"http://127.0.0.1:{_trackerPort}/");

    public IReadOnlyList<AgentHost> Agents => _agents;

    public static async Task<SwarmCluster> StartAsync(long originEgressLimit = 0, int originConnectionsPerBlob = 10,
        Action<OriginOptions, TempDirectory>? tweakOrigin = null, Action<TrackerOptions>? tweakTracker = null)
    {
        var dir = new TempDirectory();
        var options = new OriginOptions
        {
            DataDir = dir.Combine("origin"),
            Listen = { Port = 0 },
            P2P = new P2POptions { Listen = { Port = 0 }, EgressLimit = originEgressLimit, MaxConnectionsPerBlob = originConnectionsPerBlob },
        };
        tweakOrigin?.Invoke(options, dir);
        var origin = OriginServer.Build(options, TestCluster.Quiet);
        await origin.StartAsync();
        var cluster = new SwarmCluster(dir, origin) { _tweakTracker = tweakTracker };
        await cluster.StartTrackerAsync();
        return cluster;
    }

    /// <summary>Starts the tracker (again, on the same port after a restart).</summary>
    public async Task StartTrackerAsync()
    {
        var options = new TrackerOptions
        {
            Listen = { Port = _trackerPort },
            Origins = [OriginApp.BaseAddress().AbsoluteUri],
            AnnounceInterval = TimeSpan.FromSeconds(1),
            PeerTtl = TimeSpan.FromSeconds(10),
        };
        _tweakTracker?.Invoke(options);
        var tracker = TrackerServer.Build(options, TestCluster.Quiet);
        await tracker.StartAsync();
        _trackerPort = tracker.BaseAddress().Port;
        _tracker = tracker;
    }

    public async Task StopTrackerAsync()
    {
        if (_tracker is not null)
        {
            await _tracker.DisposeAsync();
            _tracker = null;
        }
    }

    public async Task<AgentHost> StartAgentAsync(string name, Action<AgentOptions>? tweak = null)
    {
        var agent = await AgentHost.StartAsync(Dir.Combine(name), NoBuildIndex, [OriginApp.BaseAddress()], options =>
        {
            options.Tracker = TrackerAddress.AbsoluteUri;
            options.P2P = new P2POptions { Listen = { Port = 0 } };
            tweak?.Invoke(options);
        });
        _agents.Add(agent);
        return agent;
    }

    public async Task StopAgentAsync(AgentHost agent)
    {
        _agents.Remove(agent);
        await agent.DisposeAsync();
    }

    public async Task<Digest> PushAsync(byte[] content)
    {
        var digest = Digest.Compute(content);
        await Origin.UploadAsync(digest, new MemoryStream(content), content.Length, TestData.Repository, replicate: false, CancellationToken.None);
        return digest;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }
        await StopTrackerAsync();
        await OriginApp.DisposeAsync();
        _http.Dispose();
        Dir.Dispose();
    }
}

internal static class AgentHostP2P
{
    public static PeerEngine Engine(this AgentHost agent) => agent.Services.GetRequiredService<PeerEngine>();

    public static string BlobPath(Digest digest) => $"/v2/{TestData.Repository}/blobs/{digest}";
}
