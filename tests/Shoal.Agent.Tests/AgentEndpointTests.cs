using Shoal.TestKit;
using System.Net;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Agent.Tests;

public sealed class AgentEndpointTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private FakeOrigin _origin = null!;
    private FakeBuildIndex _index = null!;
    private AgentHost _agent = null!;

    public async Task InitializeAsync()
    {
        _origin = await FakeOrigin.StartAsync();
        _index = await FakeBuildIndex.StartAsync();
        _agent = await AgentHost.StartAsync(_dir.Combine("agent"), _index.BaseAddress, [_origin.BaseAddress]);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _index.DisposeAsync();
        await _origin.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData("/v2/")]
    [InlineData("/v2")]
    [InlineData("/v2/?ns=registry.example")]
    public async Task GetBase_Returns200EmptyObjectWithApiVersion(string path)
    {
        using var response = await _agent.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("registry/2.0", RegistryAssert.Single(response, RegistryAssert.ApiVersionHeader));
    }

    [Theory]
    [InlineData("POST", "/v2/team/app/blobs/uploads/")]
    [InlineData("PATCH", "/v2/team/app/blobs/uploads/0123abcd")]
    [InlineData("PUT", "/v2/team/app/blobs/uploads/0123abcd?digest=sha256:0000")]
    [InlineData("PUT", "/v2/team/app/manifests/latest")]
    [InlineData("DELETE", "/v2/team/app/manifests/latest")]
    [InlineData("DELETE", "/v2/team/app/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("POST", "/v2/")]
    [InlineData("GET", "/v2/team/app/blobs/uploads/0123abcd")]
    public async Task Push_AnyWriteRequest_Returns405Unsupported(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent([1, 2, 3]) };

        using var response = await _agent.Client.SendAsync(request);

        var message = await RegistryAssert.ErrorAsync(response, HttpStatusCode.MethodNotAllowed, RegistryErrorCode.UNSUPPORTED);
        Assert.Equal("the agent is pull-only; push to the proxy", message);
    }

    [Theory]
    [InlineData("/v2/_catalog")]
    [InlineData("/v2/team/app/referrers/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("/v2/team/app/unknown/thing")]
    public async Task Get_UnservedRoute_Returns404Unsupported(string path)
    {
        using var response = await _agent.Client.GetAsync(path);

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.UNSUPPORTED);
    }

    [Fact]
    public async Task GetManifest_RecordedButInNoOrigin_Returns404ManifestUnknown()
    {
        var digest = Digest.Compute([7, 7, 7]);
        _index.Manifest(TestData.Repository, digest, MediaTypes.OciManifest, 3);

        using var response = await _agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/{digest}");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
    }

    [Fact]
    public async Task Health_Returns200()
    {
        using var response = await _agent.Client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readiness_FollowsBuildIndexReadiness()
    {
        using (var ready = await _agent.Client.GetAsync("/readiness"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        _index.Ready = false;
        using (var notReady = await _agent.Client.GetAsync("/readiness"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        }

        await _index.DisposeAsync();
        using var gone = await _agent.Client.GetAsync("/readiness");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, gone.StatusCode);
        Assert.Contains("build-index", await gone.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
