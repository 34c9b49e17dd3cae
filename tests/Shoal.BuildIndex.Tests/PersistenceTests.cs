using System.Net;
using Shoal.Clients.BuildIndex;

namespace Shoal.BuildIndex.Tests;

public sealed class PersistenceTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private BuildIndexHost _host = null!;

    public async Task InitializeAsync() => _host = await BuildIndexHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Restart_OnTheSameDataDir_KeepsTagsManifestsAndLinks()
    {
        var manifest = BuildIndexHost.DigestOf("manifest");
        var layer = BuildIndexHost.DigestOf("layer");
        await _host.Client.PutBlobLinkAsync("library/nginx", layer, Ct);
        await _host.Client.PutManifestAsync("library/nginx", manifest, new ManifestRecord("application/vnd.oci.image.manifest.v1+json", 42), Ct);
        await _host.Client.PutTagAsync("library/nginx", "latest", manifest, Ct);
        await _host.Client.PutTagAsync("library/nginx", "gone", manifest, Ct);
        await _host.Client.DeleteTagAsync("library/nginx", "gone", Ct);

        await _host.RestartAsync();

        Assert.Equal(manifest, await _host.Client.GetTagAsync("library/nginx", "latest", Ct));
        Assert.Null(await _host.Client.GetTagAsync("library/nginx", "gone", Ct));
        Assert.Equal(new ManifestRecord("application/vnd.oci.image.manifest.v1+json", 42), await _host.Client.GetManifestAsync("library/nginx", manifest, Ct));
        Assert.True(await _host.Client.HasBlobLinkAsync("library/nginx", layer, Ct));
        Assert.Equal(["library/nginx"], (await _host.Client.ListRepositoriesAsync(null, null, Ct)).Items);
    }

    [Fact]
    public async Task Restart_AfterACrashLeftATempFile_IgnoresIt()
    {
        var digest = BuildIndexHost.DigestOf("x");
        await _host.Client.PutTagAsync("app", "latest", digest, Ct);
        var tags = Path.Combine(_host.DataDir, "repositories", "app", "_tags");
        await File.WriteAllTextAsync(Path.Combine(tags, ".other.0123.tmp"), "{\"digest\":", Ct);

        await _host.RestartAsync();

        Assert.Equal(["latest"], (await _host.Client.ListTagsAsync("app", null, null, Ct))!.Items);
        Assert.Equal(digest, await _host.Client.GetTagAsync("app", "latest", Ct));
    }

    [Fact]
    public async Task EveryOperation_WritesOnlyInsideTheDataDir()
    {
        var digest = BuildIndexHost.DigestOf("x");
        await _host.Client.PutTagAsync("a/b/c", "latest", digest, Ct);
        await _host.Client.PutManifestAsync("a/b/c", digest, new ManifestRecord("application/json", 1), Ct);
        await _host.Client.PutBlobLinkAsync("a/b/c", digest, Ct);
        foreach (var path in new[] { "v1/repositories/..%2F..%2Fescaped/tags/latest", "v1/repositories/a/%2E%2E/%2E%2E/%2E%2E/escaped/tags/latest", "v1/repositories/a/tags/..%2F..%2Fescaped" })
        {
            using var response = await _host.Http.PutAsync(path, new StringContent($"{{\"digest\":\"{digest}\"}}"), Ct);
            Assert.False(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}");
        }
        using (var ready = await _host.Http.GetAsync("readiness", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        await _host.Client.DeleteManifestAsync("a/b/c", digest, Ct);

        var outside = Directory.EnumerateFileSystemEntries(_host.Root, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(_host.DataDir + Path.DirectorySeparatorChar, StringComparison.Ordinal) && p != _host.DataDir);
        Assert.Empty(outside);
        var inData = Directory.EnumerateFileSystemEntries(_host.DataDir).Select(Path.GetFileName);
        Assert.Equal(["repositories"], inData);
    }

    [Fact]
    public async Task Readiness_DataDirGone_Returns503()
    {
        using (var ready = await _host.Http.GetAsync("readiness", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        Directory.Delete(_host.DataDir, recursive: true);

        using var notReady = await _host.Http.GetAsync("readiness", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Contains("not writable", await notReady.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }
}
