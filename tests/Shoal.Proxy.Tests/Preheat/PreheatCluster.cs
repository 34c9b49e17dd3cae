using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Shoal.Agent;
using Shoal.BuildIndex;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Hosting;
using Shoal.Origin;
using Shoal.P2P;
using Shoal.Storage;
using Shoal.TestKit;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>
/// build-index, two origins whose filesystem backend (one shared directory) holds the image blobs,
/// a fake upstream registry serving the manifests, a proxy with preheat configured for that upstream,
/// and optionally one agent.
/// </summary>
internal sealed class PreheatCluster : IAsyncDisposable
{
    public const string Token = "pat-0123456789abcdef";

    private readonly TempDirectory _dir;
    private readonly List<WebApplication> _apps;
    private readonly Action<WebApplicationBuilder> _configureProxy;
    private WebApplication _proxy;

    private PreheatCluster(TempDirectory dir, List<WebApplication> apps, WebApplication proxy, ProxyOptions options, FakeUpstream upstream, WebApplication? agent, AgentOptions? agentOptions, Action<WebApplicationBuilder> configureProxy)
    {
        _configureProxy = configureProxy;
        _dir = dir;
        _apps = apps;
        _proxy = proxy;
        Options = options;
        Upstream = upstream;
        AgentApp = agent;
        AgentOptions = agentOptions;
        Http = new HttpClient { BaseAddress = proxy.BaseAddress(), Timeout = TimeSpan.FromSeconds(60) };
    }

    public ProxyOptions Options { get; }

    public FakeUpstream Upstream { get; }

    public WebApplication? AgentApp { get; }

    public AgentOptions? AgentOptions { get; }

    /// <summary>A client of the proxy (BaseAddress set, no credentials).</summary>
    public HttpClient Http { get; private set; }

    public string BackendDir => Path.Combine(_dir.Path, "backend");

    /// <summary>Where the proxy keeps its preheat job files.</summary>
    public string JobsDir => Path.Combine(Options.DataDir, "preheat", "jobs");

    public string OriginDataDir(int i) => Path.Combine(_dir.Path, $"origin-{i}");

    /// <summary>Starts the cluster; <paramref name="configureProxy"/> may replace the proxy's services (e.g. its DNS resolver).</summary>
    public static async Task<PreheatCluster> StartAsync(bool withAgent = false, bool withTokens = true, Action<ProxyOptions>? configure = null, Action<WebApplicationBuilder>? configureProxy = null)
    {
        var dir = new TempDirectory("shoal-preheat");
        var apps = new List<WebApplication>();
        FakeUpstream? upstream = null;
        try
        {
            upstream = await FakeUpstream.StartAsync();
            var buildIndexOptions = new BuildIndexOptions { DataDir = Path.Combine(dir.Path, "build-index") };
            buildIndexOptions.Listen.Port = 0;
            var buildIndex = await StartAsync(apps, BuildIndexServer.Build(buildIndexOptions, Quiet));
            var origins = new List<string>();
            for (var i = 0; i < 2; i++)
            {
                var originOptions = new OriginOptions
                {
                    DataDir = Path.Combine(dir.Path, $"origin-{i}"),
                    Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = Path.Combine(dir.Path, "backend") },
                };
                originOptions.Listen.Port = 0;
                origins.Add((await StartAsync(apps, OriginServer.Build(originOptions, Quiet))).BaseAddress().AbsoluteUri);
            }
            WebApplication? agent = null;
            AgentOptions? agentOptions = null;
            if (withAgent)
            {
                agentOptions = new AgentOptions
                {
                    DataDir = Path.Combine(dir.Path, "agent"),
                    BuildIndex = buildIndex.BaseAddress().AbsoluteUri,
                    Origins = origins,
                    P2P = new P2POptions { Listen = { Port = 0 } },
                };
                agentOptions.Listen.Port = 0;
                agent = await StartAsync(apps, AgentServer.Build(agentOptions, Quiet));
            }
            var options = new ProxyOptions
            {
                DataDir = Path.Combine(dir.Path, "proxy"),
                Origins = origins,
                BuildIndex = buildIndex.BaseAddress().AbsoluteUri,
            };
            options.Listen.Port = 0;
            options.Preheat.Upstreams.Add(new PreheatUpstream { Url = upstream.BaseAddress.AbsoluteUri });
            if (withTokens)
            {
                options.Preheat.Tokens.Add(PreheatToken.FromString(Token));
            }
            if (agent is not null)
            {
                options.Preheat.Agents.Add(agent.BaseAddress().AbsoluteUri);
            }
            configure?.Invoke(options);
            Action<WebApplicationBuilder> configureProxyAndQuiet = builder =>
            {
                Quiet(builder);
                configureProxy?.Invoke(builder);
            };
            var proxy = ProxyServer.Build(options, configureProxyAndQuiet);
            await proxy.StartAsync();
            return new PreheatCluster(dir, apps, proxy, options, upstream, agent, agentOptions, configureProxyAndQuiet);
        }
        catch
        {
            foreach (var app in apps)
            {
                await app.DisposeAsync();
            }
            if (upstream is not null)
            {
                await upstream.DisposeAsync();
            }
            dir.Dispose();
            throw;
        }
    }

    private static async Task<WebApplication> StartAsync(List<WebApplication> apps, WebApplication app)
    {
        await app.StartAsync();
        apps.Add(app);
        return app;
    }

    private static void Quiet(WebApplicationBuilder builder) => builder.Logging.SetMinimumLevel(LogLevel.Warning);

    /// <summary>Stops the proxy and starts a new one on the same data directory.</summary>
    public async Task RestartProxyAsync()
    {
        await _proxy.StopAsync();
        await _proxy.DisposeAsync();
        _proxy = ProxyServer.Build(Options, _configureProxy);
        await _proxy.StartAsync();
        Http.Dispose();
        Http = new HttpClient { BaseAddress = _proxy.BaseAddress(), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Writes an image (config + layers) into the origins' backend and its manifest into the fake upstream.</summary>
    public UpstreamImage AddImage(string repository, string? tag, string mediaType = MediaTypes.OciManifest, int layers = 2, bool inBackend = true)
    {
        var config = TestData.Config();
        var blobs = new List<(Digest Digest, long Size)>();
        var layerBlobs = new List<(Digest Digest, long Size)>();
        var configDigest = WriteBlob(config, inBackend);
        blobs.Add((configDigest, config.Length));
        for (var i = 0; i < layers; i++)
        {
            var layer = TestData.RandomBytes(2000 + i);
            var d = WriteBlob(layer, inBackend);
            layerBlobs.Add((d, layer.Length));
            blobs.Add((d, layer.Length));
        }
        var manifest = TestData.ImageManifest(mediaType, (configDigest, config.Length), layerBlobs);
        var digest = Upstream.Add(repository, manifest, mediaType, tag);
        return new UpstreamImage(new TestImage(digest, manifest, mediaType), blobs.Select(b => b.Digest).ToArray());
    }

    /// <summary>An index over <paramref name="children"/> (already added), served under <paramref name="tag"/>.</summary>
    public UpstreamImage AddIndex(string repository, string tag, string mediaType, params UpstreamImage[] children)
    {
        var index = TestData.Index(mediaType, children.Select(c => c.Image).ToArray());
        var digest = Upstream.Add(repository, index, mediaType, tag);
        return new UpstreamImage(new TestImage(digest, index, mediaType), children.SelectMany(c => c.Blobs).ToArray());
    }

    private Digest WriteBlob(byte[] data, bool inBackend)
    {
        var digest = Digest.Compute(data);
        if (inBackend)
        {
            var path = Path.Combine(BackendDir, BackendNames.ForBlob(digest).Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, data);
        }
        return digest;
    }

    /// <summary>Whether origin <paramref name="i"/> holds <paramref name="digest"/> in its local store.</summary>
    public bool OriginHolds(int i, Digest digest) => Holds(OriginDataDir(i), digest);

    public bool AgentHolds(Digest digest) => AgentOptions is not null && Holds(AgentOptions.DataDir, digest);

    private static bool Holds(string root, Digest digest)
        => File.Exists(Path.Combine(root, "blobs", Digest.Sha256, digest.Hex[..2], digest.Hex[2..4], digest.Hex, "data"));

    /// <summary>How many origins hold <paramref name="digest"/>.</summary>
    public int Holders(Digest digest) => Enumerable.Range(0, 2).Count(i => OriginHolds(i, digest));

    /// <summary>A request with the configured token as a bearer.</summary>
    public static HttpRequestMessage Authorized(HttpMethod method, string path, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        return request;
    }

    /// <summary>Polls <c>GET /v1/preheat/jobs/{id}</c> until the job finishes (at most 30 s).</summary>
    public async Task<JsonElement> WaitForJobAsync(long id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await Http.SendAsync(Authorized(HttpMethod.Get, $"/v1/preheat/jobs/{id}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var job = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            var state = job.GetProperty("state").GetString();
            if (state is "succeeded" or "failed")
            {
                return job;
            }
            Assert.True(DateTime.UtcNow < deadline, $"job {id} still {state} after 30 s");
            await Task.Delay(50);
        }
    }

    /// <summary>Every job the proxy lists.</summary>
    public async Task<JsonElement[]> ListJobsAsync()
    {
        using var response = await Http.SendAsync(Authorized(HttpMethod.Get, "/v1/preheat/jobs"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone().EnumerateArray().ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        foreach (var app in new[] { _proxy }.Concat(Enumerable.Reverse(_apps)))
        {
            try
            {
                await app.StopAsync();
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
            }
            await app.DisposeAsync();
        }
        await Upstream.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>An image in the fake upstream: its manifest and every config/layer blob.</summary>
internal sealed record UpstreamImage(TestImage Image, Digest[] Blobs);
