using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Shoal.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Hosting;
using Shoal.Origin;
using Shoal.Storage;
using Shoal.Storage.Registry;
using Shoal.TestKit;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>
/// The whole flow with real parts: a docker-registry notifies the proxy of every push; the origins'
/// backend is that registry; skopeo pushes an image and a multi-arch index; without any pull the
/// origins soon hold every config and layer and its metainfo.
/// </summary>
public sealed class RegistryFlowTests : IAsyncLifetime
{
    private const string Token = "flow-token-0123456789";
    private readonly TempDirectory _dir = new("shoal-preheat-flow");
    private readonly List<WebApplication> _apps = [];
    private DockerRegistry? _registry;
    private readonly List<string> _originDirs = [];
    private readonly List<Uri> _origins = [];

    public Task InitializeAsync() => Task.CompletedTask;

    private async Task StartAsync()
    {
        var proxyPort = FreePort.Next();
        _registry = await DockerRegistry.StartAsync($"""
            notifications:
              events:
                includereferences: true
              endpoints:
                - name: shoal
                  url: http://127.0.0.1:{proxyPort}/registry/notifications
                  headers:
                    Authorization: [ "Bearer {Token}" ]
                  timeout: 5s
                  threshold: 5
                  backoff: 1s
                  ignoredmediatypes: [ application/octet-stream ]
            """);
        var buildIndexOptions = new BuildIndexOptions { DataDir = _dir.Combine("build-index") };
        buildIndexOptions.Listen.Port = 0;
        var buildIndex = await StartAsync(BuildIndexServer.Build(buildIndexOptions, Quiet));
        for (var i = 0; i < 2; i++)
        {
            var originOptions = new OriginOptions
            {
                DataDir = _dir.Combine($"origin-{i}"),
                Backend = new BackendOptions { Type = BackendOptions.RegistryType, Registry = new RegistryBackendOptions { Address = _registry.Url.AbsoluteUri } },
            };
            originOptions.Listen.Port = 0;
            _originDirs.Add(originOptions.DataDir);
            _origins.Add((await StartAsync(OriginServer.Build(originOptions, Quiet))).BaseAddress());
        }
        var options = new ProxyOptions
        {
            DataDir = _dir.Combine("proxy"),
            Origins = _origins.Select(o => o.AbsoluteUri).ToList(),
            BuildIndex = buildIndex.BaseAddress().AbsoluteUri,
        };
        options.Listen.Port = proxyPort;
        options.Preheat.Upstreams.Add(new PreheatUpstream { Url = _registry.Url.AbsoluteUri });
        options.Preheat.Tokens.Add(PreheatToken.FromString(Token));
        await StartAsync(ProxyServer.Build(options, Quiet));
    }

    private async Task<WebApplication> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        _apps.Add(app);
        return app;
    }

    private static void Quiet(WebApplicationBuilder builder) => builder.Logging.SetMinimumLevel(LogLevel.Warning);

    private bool AnyOriginHolds(string digest)
    {
        var d = Digest.Parse(digest);
        return _originDirs.Any(dir =>
        {
            var blob = Path.Combine(dir, "blobs", Digest.Sha256, d.Hex[..2], d.Hex[2..4], d.Hex);
            return File.Exists(Path.Combine(blob, "data")) && File.Exists(Path.Combine(blob, "metainfo.json"));
        });
    }

    [E2EFact(ToolCheck.DockerRegistry, ToolCheck.Skopeo)]
    public async Task Push_ToANotifyingRegistry_OriginsHoldEveryBlobWithoutAPull()
    {
        await StartAsync();
        var layout = new OciImageBuilder(_dir.CreateSubdirectory("layout"), seed: 7);
        var image = layout.AddImage("v1", new OciImageSpec { LayerSizes = [200 * 1024, 64 * 1024] });
        var index = layout.AddIndex("multi",
            new OciImageSpec { Platform = OciPlatform.LinuxAmd64, LayerSizes = [128 * 1024] },
            new OciImageSpec { Platform = OciPlatform.LinuxArm64, LayerSizes = [96 * 1024] });

        await Skopeo.PushAsync(layout.LayoutDirectory, "v1", _registry!.HostPort, "team/flow:v1", "--preserve-digests");
        await Skopeo.PushAsync(layout.LayoutDirectory, "multi", _registry.HostPort, "team/flow:multi", "--preserve-digests", "--all");

        var expected = new[] { image }.Concat(index.Images).SelectMany(i => i.Layers.Select(l => l.Digest).Append(i.Config.Digest)).Distinct().ToArray();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!expected.All(AnyOriginHolds))
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"after 60 s the origins lack {string.Join(", ", expected.Where(d => !AnyOriginHolds(d)))}; registry log:\n{_registry.Log}");
            await Task.Delay(200);
        }
        // The metainfo the origins serve is the one they computed (no fetch needed: they hold the blobs).
        using var http = new HttpClient();
        foreach (var digest in expected)
        {
            var infos = await Task.WhenAll(_origins.Select(o => new OriginClient(http, o).GetMetaInfoAsync(Digest.Parse(digest), "team/flow", CancellationToken.None)));
            Assert.Contains(infos, info => info is not null && info.Digest.ToString() == digest);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var app in Enumerable.Reverse(_apps))
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        _registry?.Dispose();
        _dir.Dispose();
    }
}
