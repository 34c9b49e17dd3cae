using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Hosting;
using Shoal.Storage;
using Shoal.Storage.Registry;
using Shoal.TestKit;

namespace Shoal.BuildIndex.Tests;

/// <summary>One anonymous registry shared by the tests of a class; each test uses its own repository.</summary>
public sealed class AnonymousUpstreamFixture : IAsyncLifetime
{
    internal UpstreamRegistry Registry { get; private set; } = null!;

    public async Task InitializeAsync() => Registry = await UpstreamRegistry.StartAsync();

    public Task DisposeAsync()
    {
        Registry?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Build-index as a pull-through index of a real registry (BuildIndexOptions.Backends).</summary>
public sealed class UpstreamRegistryTests : IClassFixture<AnonymousUpstreamFixture>
{
    private readonly UpstreamRegistry _registry;

    public UpstreamRegistryTests(AnonymousUpstreamFixture fixture)
    {
        _registry = fixture.Registry;
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task GetTagAndManifest_OnlyUpstream_ResolvedFromRegistry()
    {
        var manifest = await _registry.PushImageAsync("pull/app", "v1", 1);
        await using var index = await IndexHost.StartAsync(_registry.Url);

        var digest = await index.Client.GetTagAsync("pull/app", "v1", default);
        var record = await index.Client.GetManifestAsync("pull/app", Digest.Compute(manifest), default);

        Assert.Equal(Digest.Compute(manifest), digest);
        Assert.Equal(new ManifestRecord(MediaTypes.OciManifest, manifest.Length), record);
        Assert.Null(await index.Client.GetTagAsync("pull/app", "missing", default));
        Assert.Null(await index.Client.GetTagAsync("pull/unknown", "v1", default));
        Assert.Null(await index.Client.GetManifestAsync("pull/app", Digest.Compute([1, 2, 3]), default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task GetManifest_ByDigestUpstream_RecordedLocallyAndKeptWhenRegistryForgetsIt()
    {
        using var registry = await UpstreamRegistry.StartAsync();
        var manifest = await registry.PushImageAsync("keep/app", "v1", 2);
        await using var index = await IndexHost.StartAsync(registry.Url);

        Assert.NotNull(await index.Client.GetManifestAsync("keep/app", Digest.Compute(manifest), default));
        registry.Dispose();

        // Immutable per digest: answered from the local record without the registry.
        Assert.Equal(new ManifestRecord(MediaTypes.OciManifest, manifest.Length), await index.Client.GetManifestAsync("keep/app", Digest.Compute(manifest), default));
        // A tag needs the registry, which is gone: 503, not 404.
        var error = await Assert.ThrowsAsync<ServiceException>(() => index.Client.GetTagAsync("keep/app", "v1", default));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task GetTag_TagMovesUpstream_CachedUntilTtlThenReResolved()
    {
        var first = await _registry.PushImageAsync("ttl/app", "latest", 3);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var index = await IndexHost.StartAsync(_registry.Url, time: time);

        Assert.Equal(Digest.Compute(first), await index.Client.GetTagAsync("ttl/app", "latest", default));
        var second = await _registry.PushImageAsync("ttl/app", "latest", 4);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(Digest.Compute(first), await index.Client.GetTagAsync("ttl/app", "latest", default));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(Digest.Compute(second), await index.Client.GetTagAsync("ttl/app", "latest", default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task GetTag_ZeroTtl_AsksRegistryEveryTime()
    {
        await _registry.PushImageAsync("nottl/app", "latest", 5);
        await using var index = await IndexHost.StartAsync(_registry.Url, ttl: TimeSpan.Zero);
        await index.Client.GetTagAsync("nottl/app", "latest", default);

        var second = await _registry.PushImageAsync("nottl/app", "latest", 6);

        Assert.Equal(Digest.Compute(second), await index.Client.GetTagAsync("nottl/app", "latest", default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task GetTag_WrittenThroughApi_WinsOverUpstreamUntilDeleted()
    {
        var upstream = await _registry.PushImageAsync("local/app", "v1", 7);
        var local = BuildIndexHost.DigestOf("pushed through shoal");
        await using var index = await IndexHost.StartAsync(_registry.Url);
        Assert.Equal(Digest.Compute(upstream), await index.Client.GetTagAsync("local/app", "v1", default));

        await index.Client.PutTagAsync("local/app", "v1", local, default);
        Assert.Equal(local, await index.Client.GetTagAsync("local/app", "v1", default));

        Assert.True(await index.Client.DeleteTagAsync("local/app", "v1", default));
        Assert.Equal(Digest.Compute(upstream), await index.Client.GetTagAsync("local/app", "v1", default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task ListTags_LocalAndUpstream_MergedSortedAndPaged()
    {
        await _registry.PushImageAsync("list/app", "a", 8);
        await _registry.PushImageAsync("list/app", "c", 8);
        await using var index = await IndexHost.StartAsync(_registry.Url);
        await index.Client.PutTagAsync("list/app", "b", BuildIndexHost.DigestOf("b"), default);
        await index.Client.PutTagAsync("list/app", "c", BuildIndexHost.DigestOf("c"), default);

        AssertPage(new ListPage(["a", "b", "c"], false), await index.Client.ListTagsAsync("list/app", null, null, default));
        AssertPage(new ListPage(["a", "b"], true), await index.Client.ListTagsAsync("list/app", 2, null, default));
        AssertPage(new ListPage(["c"], false), await index.Client.ListTagsAsync("list/app", 2, "b", default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task ListTags_UpstreamOnlyOrUnknown_UpstreamTagsOr404()
    {
        await _registry.PushImageAsync("only/app", "v2", 9);
        await _registry.PushImageAsync("only/app", "v1", 9);
        await using var index = await IndexHost.StartAsync(_registry.Url);

        AssertPage(new ListPage(["v1", "v2"], false), await index.Client.ListTagsAsync("only/app", null, null, default));
        Assert.Null(await index.Client.ListTagsAsync("only/unknown", null, null, default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Namespace_NotRoutedToRegistry_AnsweredLocallyOnly()
    {
        await _registry.PushImageAsync("elsewhere/app", "v1", 10);
        await using var index = await IndexHost.StartAsync(_registry.Url, ns: "routed/.*");

        Assert.Null(await index.Client.GetTagAsync("elsewhere/app", "v1", default));
        Assert.Null(await index.Client.ListTagsAsync("elsewhere/app", null, null, default));
    }

    [Fact]
    public async Task UpstreamUnreachable_Returns503ProblemDetails()
    {
        await using var index = await IndexHost.StartAsync(new Uri($"http://127.0.0.1:{FreePort.Next()}/"));

        foreach (var path in new[] { "down/app/tags/v1", "down/app/_tags", $"down/app/manifests/{Digest.Compute([1])}" })
        {
            using var response = await index.Http.GetAsync($"/v1/repositories/{path}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("down/app", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // Writes and local records do not need the registry.
        await index.Client.PutTagAsync("down/app", "v1", BuildIndexHost.DigestOf("x"), default);
        Assert.Equal(BuildIndexHost.DigestOf("x"), await index.Client.GetTagAsync("down/app", "v1", default));
    }

    [Fact]
    public void Options_InvalidTtlOrRoute_Rejected()
    {
        var ttl = Assert.Throws<ConfigurationException>(() => BuildIndexServer.Build(new BuildIndexOptions { DataDir = "x", UpstreamTagTtl = TimeSpan.FromHours(2) }));
        Assert.Contains("upstreamTagTtl", ttl.Message, StringComparison.OrdinalIgnoreCase);
        var route = Assert.Throws<ConfigurationException>(() => BuildIndexServer.Build(new BuildIndexOptions
        {
            DataDir = "x",
            Backends = [new BackendRouteOptions { Namespace = "(", Backend = new BackendOptions { Type = "registry", Registry = new RegistryBackendOptions { Address = "http://127.0.0.1:1" } } }],
        }));
        Assert.Contains("backends", route.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static void AssertPage(ListPage expected, ListPage? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Items, actual.Items);
        Assert.Equal(expected.More, actual.More);
    }
}

/// <summary>Build-index behind a registry that wants htpasswd basic authentication.</summary>
public sealed class UpstreamBasicAuthTests
{
    [E2EFact(ToolCheck.DockerRegistry, ToolCheck.Htpasswd)]
    public async Task BasicAuth_RightAndWrongCredentials_ResolvesOr503()
    {
        using var registry = await UpstreamRegistry.StartAsync(basicAuth: true);
        var manifest = await registry.PushImageAsync("auth/app", "v1", 11);
        await using var good = await IndexHost.StartAsync(registry.Url, UpstreamRegistry.User, UpstreamRegistry.Password);
        await using var bad = await IndexHost.StartAsync(registry.Url, UpstreamRegistry.User, "wrong");
        await using var none = await IndexHost.StartAsync(registry.Url);

        Assert.Equal(Digest.Compute(manifest), await good.Client.GetTagAsync("auth/app", "v1", default));
        Assert.Equal(new ManifestRecord(MediaTypes.OciManifest, manifest.Length), await good.Client.GetManifestAsync("auth/app", Digest.Compute(manifest), default));
        Assert.Equal(["v1"], (await good.Client.ListTagsAsync("auth/app", null, null, default))!.Items);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Assert.ThrowsAsync<ServiceException>(() => bad.Client.GetTagAsync("auth/app", "v1", default))).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Assert.ThrowsAsync<ServiceException>(() => none.Client.GetTagAsync("auth/app", "v1", default))).StatusCode);
    }
}

/// <summary>A build-index on port 0 whose <c>backends</c> route namespaces to one registry.</summary>
internal sealed class IndexHost : IAsyncDisposable
{
    private readonly TempDir _dir;
    private readonly WebApplication _app;

    private IndexHost(TempDir dir, WebApplication app)
    {
        _dir = dir;
        _app = app;
        Http = new HttpClient { BaseAddress = app.BaseAddress() };
        Client = new BuildIndexClient(Http, app.BaseAddress());
    }

    public HttpClient Http { get; }

    public BuildIndexClient Client { get; }

    public static async Task<IndexHost> StartAsync(Uri registry, string? username = null, string? password = null, TimeProvider? time = null, TimeSpan? ttl = null, string ns = ".*")
    {
        var dir = new TempDir();
        var options = new BuildIndexOptions
        {
            DataDir = dir.Sub("data"),
            Listen = { Port = 0 },
            Backends =
            [
                new BackendRouteOptions
                {
                    Namespace = ns,
                    Backend = new BackendOptions
                    {
                        Type = "registry",
                        Registry = new RegistryBackendOptions { Address = registry.ToString(), Username = username, Password = password, Timeout = TimeSpan.FromSeconds(10) },
                    },
                },
            ],
        };
        if (ttl is { } value)
        {
            options.UpstreamTagTtl = value;
        }
        var app = BuildIndexServer.Build(options, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Error);
            if (time is not null)
            {
                builder.Services.AddSingleton(time);
            }
        });
        await app.StartAsync();
        return new IndexHost(dir, app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Http.Dispose();
        _dir.Dispose();
    }
}
