using System.Net;
using System.Text;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Hosting;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>The agent's <c>POST /v1/preload</c>, which scope all_peers calls.</summary>
public sealed class AgentPreloadTests(PreheatFixture fixture) : IClassFixture<PreheatFixture>
{
    private PreheatCluster Cluster => fixture.Cluster;

    private async Task<HttpResponseMessage> PreloadAsync(string json)
    {
        using var http = new HttpClient { BaseAddress = Cluster.AgentApp!.BaseAddress() };
        return await http.PostAsync("/v1/preload", new StringContent(json, Encoding.UTF8, "application/json"));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("""{"repository":"a/b"}""")]
    [InlineData("""{"repository":"BAD","blobs":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}""")]
    [InlineData("""{"repository":"a/b","blobs":["sha256:12"]}""")]
    public async Task Preload_BadInput_400(string json)
    {
        using var response = await PreloadAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Preload_BlobNoOriginHas_502NamingIt()
    {
        var missing = Digest.Compute(TestData.RandomBytes(64));

        using var response = await PreloadAsync($$"""{"repository":"a/b","blobs":["{{missing}}"]}""");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains(missing.ToString(), await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(Cluster.AgentHolds(missing));
    }

    [Fact]
    public async Task Preload_ReferenceOfAnImagePushedToShoal_CachesManifestAndBlobs()
    {
        var repo = TestData.Repo("preload");
        using var registry = new HttpClient { BaseAddress = Cluster.Http.BaseAddress };
        async Task<Digest> Push(byte[] data)
        {
            var digest = Digest.Compute(data);
            using var r = await registry.PostAsync($"/v2/{repo}/blobs/uploads/?digest={digest}", new ByteArrayContent(data));
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            return digest;
        }
        var config = TestData.Config();
        var layer = TestData.RandomBytes(4096);
        var configDigest = await Push(config);
        var layerDigest = await Push(layer);
        var manifest = TestData.ImageManifest(MediaTypes.OciManifest, (configDigest, config.Length), [(layerDigest, layer.Length)]);
        var put = new ByteArrayContent(manifest);
        put.Headers.ContentType = new(MediaTypes.OciManifest);
        using (var r = await registry.PutAsync($"/v2/{repo}/manifests/v1", put))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        using var response = await PreloadAsync($$"""{"repository":"{{repo}}","reference":"v1"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Cluster.AgentHolds(Digest.Compute(manifest)));
        Assert.True(Cluster.AgentHolds(configDigest));
        Assert.True(Cluster.AgentHolds(layerDigest));
    }
}
