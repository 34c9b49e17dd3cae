using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Hosting;
using Shoal.Storage;

namespace Shoal.BuildIndex.Tests;

/// <summary>Tags, manifest records and blob links stored through a storage backend (BuildIndexOptions.Backends), in both layouts.</summary>
public sealed class BackendTagStoreTests : IAsyncLifetime
{
    private const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly TempDir _dir = new();
    private readonly List<(WebApplication App, HttpClient Http)> _hosts = [];

    private string Storage => _dir.Sub("storage");

    private string V2 => Path.Combine(Storage, "docker", "registry", "v2");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (app, http) in _hosts)
        {
            await app.DisposeAsync();
            http.Dispose();
        }
        _dir.Dispose();
    }

    [Fact]
    public async Task Distribution_PushedRecords_AreTheRegistrysFiles()
    {
        var client = await StartAsync("distribution");
        var manifest = Digest.Compute("m"u8);
        var layer = Digest.Compute("l"u8);

        await client.PutBlobLinkAsync("team/app", layer, Ct);
        await client.PutManifestAsync("team/app", manifest, new ManifestRecord(ManifestType, 1), Ct);
        await client.PutTagAsync("team/app", "v1", manifest, Ct);

        var repo = Path.Combine(V2, "repositories", "team", "app");
        Assert.Equal(layer.ToString(), await File.ReadAllTextAsync(Path.Combine(repo, "_layers", "sha256", layer.Hex, "link")));
        Assert.Equal(manifest.ToString(), await File.ReadAllTextAsync(Path.Combine(repo, "_manifests", "revisions", "sha256", manifest.Hex, "link")));
        Assert.Equal(manifest.ToString(), await File.ReadAllTextAsync(Path.Combine(repo, "_manifests", "tags", "v1", "current", "link")));
        Assert.Equal(manifest.ToString(), await File.ReadAllTextAsync(Path.Combine(repo, "_manifests", "tags", "v1", "index", "sha256", manifest.Hex, "link")));
        Assert.False(Directory.Exists(Path.Combine(_dir.Sub("data"), "repositories", "team")), "nothing of a routed repository is kept locally");

        Assert.Equal(manifest, await client.GetTagAsync("team/app", "v1", Ct));
        Assert.Equal(new ManifestRecord(ManifestType, 1), await client.GetManifestAsync("team/app", manifest, Ct));
        Assert.True(await client.HasBlobLinkAsync("team/app", layer, Ct));
        Assert.Equal(["v1"], (await client.ListTagsAsync("team/app", null, null, Ct))!.Items);
        Assert.Equal(["team/app"], (await client.ListRepositoriesAsync(null, null, Ct)).Items);
    }

    [Fact]
    public async Task Distribution_RegistryWrittenRepository_ReadWithRecordFromManifestBlob()
    {
        var manifestBytes = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"" + ManifestType + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
            + Digest.Compute("{}"u8) + "\",\"size\":2},\"layers\":[]}");
        var manifest = Digest.Compute(manifestBytes);
        var repo = Path.Combine(V2, "repositories", "library", "busybox");
        WriteFile(Path.Combine(V2, "blobs", "sha256", manifest.Hex[..2], manifest.Hex, "data"), manifestBytes);
        WriteFile(Path.Combine(repo, "_manifests", "revisions", "sha256", manifest.Hex, "link"), Encoding.ASCII.GetBytes(manifest.ToString()));
        WriteFile(Path.Combine(repo, "_manifests", "tags", "latest", "current", "link"), Encoding.ASCII.GetBytes(manifest + "\n"));
        WriteFile(Path.Combine(repo, "_uploads", "0f1e", "startedat"), "2026"u8.ToArray());
        var client = await StartAsync("distribution");

        Assert.Equal(manifest, await client.GetTagAsync("library/busybox", "latest", Ct));
        Assert.Equal(new ManifestRecord(ManifestType, manifestBytes.Length), await client.GetManifestAsync("library/busybox", manifest, Ct));
        Assert.Null(await client.GetManifestAsync("library/busybox", Digest.Compute("other"u8), Ct));
        Assert.Equal(["latest"], (await client.ListTagsAsync("library/busybox", null, null, Ct))!.Items);
        Assert.Equal(["library/busybox"], (await client.ListRepositoriesAsync(null, null, Ct)).Items);
    }

    [Fact]
    public async Task Distribution_DeleteManifest_RemovesRevisionAndTagsPointingAtIt()
    {
        var client = await StartAsync("distribution");
        var manifest = Digest.Compute("m"u8);
        var other = Digest.Compute("o"u8);
        await client.PutManifestAsync("app", manifest, new ManifestRecord(ManifestType, 1), Ct);
        await client.PutTagAsync("app", "a", manifest, Ct);
        await client.PutTagAsync("app", "b", other, Ct);

        Assert.True(await client.DeleteManifestAsync("app", manifest, Ct));

        Assert.Null(await client.GetTagAsync("app", "a", Ct));
        Assert.Equal(other, await client.GetTagAsync("app", "b", Ct));
        Assert.False(File.Exists(Path.Combine(V2, "repositories", "app", "_manifests", "revisions", "sha256", manifest.Hex, "link")));
        // Not even the tag's directory: a registry on this storage lists the directories under tags/ as tags.
        Assert.False(Directory.Exists(Path.Combine(V2, "repositories", "app", "_manifests", "tags", "a")));
        Assert.True(Directory.Exists(Path.Combine(V2, "repositories", "app", "_manifests", "tags", "b")));
        Assert.True(await client.DeleteTagAsync("app", "b", Ct));
        Assert.False(await client.DeleteTagAsync("app", "b", Ct));
        Assert.Null(await client.ListTagsAsync("app", null, null, Ct));
    }

    [Fact]
    public async Task Shoal_Records_StoredUnderNativeNames()
    {
        var client = await StartAsync("shoal");
        var manifest = Digest.Compute("m"u8);
        await client.PutManifestAsync("team/app", manifest, new ManifestRecord(ManifestType, 7), Ct);
        await client.PutTagAsync("team/app", "v1", manifest, Ct);
        await client.PutBlobLinkAsync("team/app", manifest, Ct);

        var repo = Path.Combine(Storage, "repositories", "team", "app");
        Assert.Contains(manifest.ToString(), await File.ReadAllTextAsync(Path.Combine(repo, "_tags", "v1")), StringComparison.Ordinal);
        Assert.Contains("\"size\":7", await File.ReadAllTextAsync(Path.Combine(repo, "_manifests", "sha256", manifest.Hex)), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(repo, "_blobs", "sha256", manifest.Hex)));
        Assert.Equal(new ManifestRecord(ManifestType, 7), await client.GetManifestAsync("team/app", manifest, Ct));
        Assert.Equal(["team/app"], (await client.ListRepositoriesAsync(null, null, Ct)).Items);
        Assert.True(await client.DeleteManifestAsync("team/app", manifest, Ct));
        Assert.Null(await client.GetTagAsync("team/app", "v1", Ct));
        Assert.Null(await client.ListTagsAsync("team/app", null, null, Ct));
    }

    [Theory]
    [InlineData("shoal")]
    [InlineData("distribution")]
    public async Task TwoIndexes_SameStorage_SeeEachOthersTagsAfterTtl(string layout)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var first = await StartAsync(layout, time: time);
        var second = await StartAsync(layout, time: time);
        var v1 = Digest.Compute("1"u8);
        var v2 = Digest.Compute("2"u8);

        await first.PutTagAsync("app", "latest", v1, Ct);
        Assert.Equal(v1, await second.GetTagAsync("app", "latest", Ct));
        await first.PutTagAsync("app", "latest", v2, Ct);
        Assert.Equal(v2, await first.GetTagAsync("app", "latest", Ct));
        Assert.Equal(v1, await second.GetTagAsync("app", "latest", Ct)); // remembered for the TTL
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(v2, await second.GetTagAsync("app", "latest", Ct));
    }

    [Fact]
    public async Task Routing_UnmatchedNamespace_StaysLocalAndCatalogMergesBoth()
    {
        var client = await StartAsync("distribution", pattern: "shared/.*");
        var digest = Digest.Compute("m"u8);
        await client.PutTagAsync("shared/app", "v1", digest, Ct);
        await client.PutTagAsync("private/app", "v1", digest, Ct);

        Assert.True(File.Exists(Path.Combine(V2, "repositories", "shared", "app", "_manifests", "tags", "v1", "current", "link")));
        Assert.False(Directory.Exists(Path.Combine(V2, "repositories", "private")));
        Assert.True(File.Exists(Path.Combine(_dir.Sub("data"), "repositories", "private", "app", "_tags", "v1")));
        // A repository in the shared storage whose namespace is not routed there is not this index's.
        WriteFile(Path.Combine(V2, "repositories", "stray", "_manifests", "tags", "x", "current", "link"), Encoding.ASCII.GetBytes(digest.ToString()));
        Assert.Equal(["private/app", "shared/app"], (await client.ListRepositoriesAsync(null, null, Ct)).Items);
        Assert.Equal(["shared/app"], (await client.ListRepositoriesAsync(1, "private/app", Ct)).Items);
    }

    [Fact]
    public async Task BackendFailure_WriteFailsWith503AndNothingIsAcknowledged()
    {
        var client = await StartAsync("distribution");
        // A file where the registry's directory tree must go: every write below it fails.
        Directory.CreateDirectory(Path.Combine(Storage, "docker", "registry"));
        await File.WriteAllTextAsync(V2, "not a directory");

        var ex = await Assert.ThrowsAsync<ServiceException>(() => client.PutTagAsync("app", "v1", Digest.Compute("m"u8), Ct));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Contains("tag storage", ex.Message, StringComparison.OrdinalIgnoreCase);
        File.Delete(V2);
        Assert.Null(await client.GetTagAsync("app", "v1", Ct));
    }

    [Fact]
    public void Options_HttpBackendForTags_ConfigurationError()
    {
        var options = new BuildIndexOptions
        {
            DataDir = _dir.Sub("data"),
            Listen = { Port = 0 },
            Backends = [new BackendRouteOptions { Backend = new BackendOptions { Type = "http", Http = new Storage.Http.HttpBackendOptions { DownloadUrl = "http://x/{name}", UploadUrl = "http://x/{name}" } } }],
        };
        var ex = Assert.Throws<ConfigurationException>(() => BuildIndexServer.Build(options));
        Assert.Contains("cannot hold tags", ex.Message, StringComparison.Ordinal);
    }

    private async Task<BuildIndexClient> StartAsync(string layout, string pattern = ".*", TimeProvider? time = null)
    {
        var options = new BuildIndexOptions
        {
            DataDir = _dir.Sub("data" + (_hosts.Count == 0 ? "" : _hosts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            Listen = { Port = 0 },
            Backends = [new BackendRouteOptions { Namespace = pattern, Backend = new BackendOptions { Type = "filesystem", Root = Storage, Layout = layout } }],
        };
        var app = BuildIndexServer.Build(options, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            if (time is not null)
            {
                builder.Services.AddSingleton(time);
            }
        });
        await app.StartAsync();
        var http = new HttpClient();
        _hosts.Add((app, http));
        return new BuildIndexClient(http, app.BaseAddress());
    }

    private static void WriteFile(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }
}
