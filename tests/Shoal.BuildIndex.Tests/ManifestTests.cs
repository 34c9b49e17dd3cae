using System.Net;
using System.Text;
using Shoal.Clients.BuildIndex;

namespace Shoal.BuildIndex.Tests;

public sealed class ManifestTests : IAsyncLifetime
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private static readonly CancellationToken Ct = CancellationToken.None;
    private BuildIndexHost _host = null!;

    public async Task InitializeAsync() => _host = await BuildIndexHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task PutManifest_ThenGet_ReturnsTheRecord()
    {
        var digest = BuildIndexHost.DigestOf("manifest");
        await _host.Client.PutManifestAsync("library/nginx", digest, new ManifestRecord(OciManifest, 1234), Ct);

        var record = await _host.Client.GetManifestAsync("library/nginx", digest, Ct);

        Assert.Equal(new ManifestRecord(OciManifest, 1234), record);
    }

    [Fact]
    public async Task GetManifest_OfAnotherRepository_ReturnsNull()
    {
        var digest = BuildIndexHost.DigestOf("manifest");
        await _host.Client.PutManifestAsync("one", digest, new ManifestRecord(OciManifest, 1), Ct);

        Assert.Null(await _host.Client.GetManifestAsync("two", digest, Ct));
        Assert.Null(await _host.Client.GetManifestAsync("one", BuildIndexHost.DigestOf("other"), Ct));
    }

    [Fact]
    public async Task DeleteManifest_RemovesItAndEveryTagPointingAtIt_KeepsOtherTags()
    {
        var doomed = BuildIndexHost.DigestOf("doomed");
        var kept = BuildIndexHost.DigestOf("kept");
        await _host.Client.PutManifestAsync("app", doomed, new ManifestRecord(OciManifest, 10), Ct);
        await _host.Client.PutManifestAsync("app", kept, new ManifestRecord(OciManifest, 20), Ct);
        await _host.Client.PutTagAsync("app", "latest", doomed, Ct);
        await _host.Client.PutTagAsync("app", "v1", doomed, Ct);
        await _host.Client.PutTagAsync("app", "v2", kept, Ct);
        await _host.Client.PutManifestAsync("other", doomed, new ManifestRecord(OciManifest, 10), Ct);
        await _host.Client.PutTagAsync("other", "latest", doomed, Ct);

        Assert.True(await _host.Client.DeleteManifestAsync("app", doomed, Ct));

        Assert.Null(await _host.Client.GetManifestAsync("app", doomed, Ct));
        Assert.Null(await _host.Client.GetTagAsync("app", "latest", Ct));
        Assert.Null(await _host.Client.GetTagAsync("app", "v1", Ct));
        Assert.Equal(kept, await _host.Client.GetTagAsync("app", "v2", Ct));
        Assert.Equal(["v2"], (await _host.Client.ListTagsAsync("app", null, null, Ct))!.Items);
        Assert.Equal(doomed, await _host.Client.GetTagAsync("other", "latest", Ct));
        Assert.NotNull(await _host.Client.GetManifestAsync("other", doomed, Ct));
    }

    [Fact]
    public async Task DeleteManifest_Unknown_ReturnsFalse()
    {
        Assert.False(await _host.Client.DeleteManifestAsync("app", BuildIndexHost.DigestOf("nothing"), Ct));
    }

    [Fact]
    public async Task DeleteManifest_LastOfARepository_DropsItFromTheCatalog()
    {
        var digest = BuildIndexHost.DigestOf("only");
        await _host.Client.PutManifestAsync("app", digest, new ManifestRecord(OciManifest, 10), Ct);
        await _host.Client.PutTagAsync("app", "latest", digest, Ct);

        await _host.Client.DeleteManifestAsync("app", digest, Ct);

        Assert.Empty((await _host.Client.ListRepositoriesAsync(null, null, Ct)).Items);
        Assert.Null(await _host.Client.ListTagsAsync("app", null, null, Ct));
    }

    [Theory]
    [InlineData("{\"mediaType\":\"\",\"size\":10}")]
    [InlineData("{\"size\":10}")]
    [InlineData("{\"mediaType\":\"no-slash\",\"size\":10}")]
    [InlineData("{\"mediaType\":\"application/json; charset=utf-8\",\"size\":10}")]
    [InlineData("{\"mediaType\":\"application/json\",\"size\":-1}")]
    [InlineData("{\"mediaType\":\"application/json\",\"size\":\"big\"}")]
    [InlineData("[]")]
    public async Task PutManifest_InvalidRecord_Returns400(string body)
    {
        var digest = BuildIndexHost.DigestOf("m");
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _host.Http.PutAsync($"v1/repositories/app/manifests/{digest}", content, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(await _host.Client.GetManifestAsync("app", digest, Ct));
    }
}
