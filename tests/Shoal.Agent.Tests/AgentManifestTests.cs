using System.Net;
using System.Net.Http.Headers;
using Shoal.Core.Registry;

namespace Shoal.Agent.Tests;

public sealed class AgentManifestTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public static TheoryData<string> ManifestTypes => new(MediaTypes.Manifests);

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Theory]
    [MemberData(nameof(ManifestTypes))]
    public async Task GetManifest_ByTag_ServesBytesWithRecordedMediaType(string mediaType)
    {
        var (digest, content) = await _cluster.PushImageAsync(TestData.Repository, "v1", mediaType);

        using var response = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/v1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(digest.ToString(), RegistryAssert.Single(response, "Docker-Content-Digest"));
        Assert.Equal("registry/2.0", RegistryAssert.Single(response, RegistryAssert.ApiVersionHeader));
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [MemberData(nameof(ManifestTypes))]
    public async Task GetManifest_ByDigest_ServesBytesWithRecordedMediaType(string mediaType)
    {
        var (digest, content) = await _cluster.PushImageAsync(TestData.Repository, null, mediaType);

        using var response = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(digest.ToString(), RegistryAssert.Single(response, "Docker-Content-Digest"));
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.True(_cluster.Agent.Store.Contains(digest));
    }

    [Fact]
    public async Task HeadManifest_ByTag_ReturnsHeadersWithoutBody()
    {
        var (digest, content) = await _cluster.PushImageAsync(TestData.Repository, "latest", MediaTypes.OciManifest);

        using var response = await _cluster.Agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{TestData.Repository}/manifests/latest"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MediaTypes.OciManifest, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content.Length, response.Content.Headers.ContentLength);
        Assert.Equal(digest.ToString(), RegistryAssert.Single(response, "Docker-Content-Digest"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetManifest_TagMoved_ServesTheNewTarget()
    {
        var (first, _) = await _cluster.PushImageAsync(TestData.Repository, "latest", MediaTypes.OciManifest);
        using (var before = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/latest"))
        {
            Assert.Equal(first.ToString(), RegistryAssert.Single(before, "Docker-Content-Digest"));
        }

        var (second, content) = await _cluster.PushImageAsync(TestData.Repository, "latest", MediaTypes.DockerManifest);
        using var after = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/latest");

        Assert.NotEqual(first, second);
        Assert.Equal(second.ToString(), RegistryAssert.Single(after, "Docker-Content-Digest"));
        Assert.Equal(MediaTypes.DockerManifest, after.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content, await after.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetManifest_CachedAndOriginStopped_StillServedFromTheStore()
    {
        var (digest, content) = await _cluster.PushImageAsync(TestData.Repository, "v1", MediaTypes.OciManifest);
        using (var first = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/{digest}"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        await _cluster.StopOriginAsync();

        using var response = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/v1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, _cluster.Agent.Stats.BlobsDownloaded);
        Assert.True(_cluster.Agent.Stats.CacheHits >= 1);
    }

    [Fact]
    public async Task GetManifest_UnknownTag_Returns404ManifestUnknown()
    {
        await _cluster.PushImageAsync(TestData.Repository, "v1", MediaTypes.OciManifest);

        using var response = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/nope");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
    }

    [Fact]
    public async Task GetManifest_DigestOfAnotherRepository_Returns404ManifestUnknown()
    {
        var (digest, _) = await _cluster.PushImageAsync("other/repo", "v1", MediaTypes.OciManifest);

        using var response = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/{digest}");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
        Assert.False(_cluster.Agent.Store.Contains(digest));
    }

    [Fact]
    public async Task GetManifest_MediaTypeNotAccepted_Returns404ManifestUnknown()
    {
        await _cluster.PushImageAsync(TestData.Repository, "v1", MediaTypes.OciIndex);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{TestData.Repository}/manifests/v1");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.DockerManifest));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciManifest));

        using var response = await _cluster.Agent.Client.SendAsync(request);

        var message = await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
        Assert.Contains(MediaTypes.OciIndex, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetManifest_MediaTypeAmongRepeatedAcceptHeaders_IsServed()
    {
        var (digest, _) = await _cluster.PushImageAsync(TestData.Repository, "v1", MediaTypes.DockerManifestList);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{TestData.Repository}/manifests/v1");
        request.Headers.TryAddWithoutValidation("Accept", MediaTypes.DockerManifest);
        request.Headers.TryAddWithoutValidation("Accept", MediaTypes.DockerManifestList + ", " + MediaTypes.OciIndex);

        using var response = await _cluster.Agent.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(digest.ToString(), RegistryAssert.Single(response, "Docker-Content-Digest"));
    }

    [Fact]
    public async Task GetManifest_WithNsQuery_IsAccepted()
    {
        var (digest, content) = await _cluster.PushImageAsync(TestData.Repository, "v1", MediaTypes.OciManifest);

        using var byTag = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/v1?ns=registry.example");
        using var byDigest = await _cluster.Agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{TestData.Repository}/manifests/{digest}?ns=registry.example"));

        Assert.Equal(HttpStatusCode.OK, byTag.StatusCode);
        Assert.Equal(content, await byTag.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, byDigest.StatusCode);
    }

    [Theory]
    [InlineData("/v2/Team/App/manifests/v1", RegistryErrorCode.NAME_INVALID)]
    [InlineData("/v2/team/app/manifests/sha256:abc", RegistryErrorCode.DIGEST_INVALID)]
    [InlineData("/v2/team/app/manifests/-bad", RegistryErrorCode.TAG_INVALID)]
    public async Task GetManifest_MalformedReference_Returns400(string path, RegistryErrorCode code)
    {
        using var response = await _cluster.Agent.Client.GetAsync(path);

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task GetTagsList_ReturnsTagsInRegistryFormat()
    {
        await _cluster.PushImageAsync(TestData.Repository, "b", MediaTypes.OciManifest);
        await _cluster.BuildIndex.PutTagAsync(TestData.Repository, "a", (await _cluster.PushImageAsync(TestData.Repository, null, MediaTypes.OciManifest)).Digest, CancellationToken.None);
        await _cluster.BuildIndex.PutTagAsync(TestData.Repository, "c", (await _cluster.PushImageAsync(TestData.Repository, null, MediaTypes.OciManifest)).Digest, CancellationToken.None);

        using var all = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/tags/list?ns=registry.example");
        using var page = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/tags/list?n=2");

        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal("""{"name":"team/app","tags":["a","b","c"]}""", await all.Content.ReadAsStringAsync());
        Assert.Equal("""{"name":"team/app","tags":["a","b"]}""", await page.Content.ReadAsStringAsync());
        Assert.Equal("</v2/team/app/tags/list?n=2&last=b>; rel=\"next\"", Assert.Single(page.Headers.GetValues("Link")));
    }

    [Fact]
    public async Task GetTagsList_UnknownRepository_Returns404NameUnknown()
    {
        using var response = await _cluster.Agent.Client.GetAsync("/v2/no/such/tags/list");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.NAME_UNKNOWN);
    }
}
