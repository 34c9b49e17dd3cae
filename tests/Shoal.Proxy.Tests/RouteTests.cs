using System.Net;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Tests;

public sealed class RouteTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ProxyCluster Cluster => fixture.Cluster;

    private HttpClient Http => Cluster.Http;

    [Theory]
    [InlineData("/v2/")]
    [InlineData("/v2")]
    public async Task Base_Get_Returns200EmptyJsonObject(string path)
    {
        using var response = await Http.GetAsync(path);

        await RegistryAssert.StatusAsync(response, HttpStatusCode.OK);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task UnknownV2Path_Returns404WithApiVersionHeader()
    {
        using var response = await Http.GetAsync("/v2/foo/bar");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.UNSUPPORTED);
    }

    [Theory]
    [InlineData("POST", "/v2/team/app/tags/list")]
    [InlineData("PATCH", "/v2/team/app/manifests/latest")]
    [InlineData("PUT", "/v2/team/app/blobs/uploads/")]
    [InlineData("DELETE", "/v2/")]
    public async Task WrongMethod_Returns405WithAllow(string method, string path)
    {
        using var response = await Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.MethodNotAllowed, RegistryErrorCode.UNSUPPORTED);
        Assert.NotEmpty(response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Health_Returns200()
    {
        using var health = await Http.GetAsync("/health");
        using var readiness = await Http.GetAsync("/readiness");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readiness.StatusCode);
    }

    public static TheoryData<string> InvalidNames => new()
    {
        "Library/Nginx",
        "foo..bar",
        "foo/-bar",
        "foo//bar",
        "foo_",
        "foo/bar.",
        "a" + new string('b', 255),
        string.Join('/', Enumerable.Repeat("abcdefghij", 24)) + "/x", // 265 characters of valid components
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task AnyEndpoint_InvalidRepositoryName_Returns400NameInvalid(string name)
    {
        var digest = Digest.Compute([1, 2, 3]);
        var requests = new[]
        {
            new HttpRequestMessage(HttpMethod.Get, $"/v2/{name}/tags/list"),
            new HttpRequestMessage(HttpMethod.Get, $"/v2/{name}/manifests/latest"),
            new HttpRequestMessage(HttpMethod.Put, $"/v2/{name}/manifests/latest") { Content = new ByteArrayContent("{}"u8.ToArray()) },
            new HttpRequestMessage(HttpMethod.Get, $"/v2/{name}/blobs/{digest}"),
            new HttpRequestMessage(HttpMethod.Post, $"/v2/{name}/blobs/uploads/?digest={digest}") { Content = new ByteArrayContent([1, 2, 3]) },
            new HttpRequestMessage(HttpMethod.Post, $"/v2/{name}/blobs/uploads/"),
            new HttpRequestMessage(HttpMethod.Get, $"/v2/{name}/blobs/uploads/0123456789abcdef0123456789abcdef"),
        };
        foreach (var request in requests)
        {
            using (request)
            using (var response = await Http.SendAsync(request))
            {
                await RegistryAssert.ErrorAsync(response, HttpStatusCode.BadRequest, RegistryErrorCode.NAME_INVALID);
            }
        }
    }

    [Fact]
    public async Task Push_NameOf255Characters_Works()
    {
        var name = string.Join('/', Enumerable.Repeat("abcdefghij", 23)) + "/zz";
        Assert.Equal(255, name.Length);

        var data = TestData.RandomBytes(10);
        var digest = await Cluster.PushBlobAsync(name, data);

        Assert.Equal(data, await Http.GetByteArrayAsync($"/v2/{name}/blobs/{digest}"));
    }

    [Fact]
    public async Task NameEndingInRouteKeyword_IsParsedFromTheEnd()
    {
        // "blobs" and "manifests" are legal name components; the route is read from the end.
        var name = $"blobs/manifests/tags-{Guid.NewGuid():N}"[..30];
        var image = await Cluster.PushImageAsync(name, "list");

        using var response = await Http.GetAsync($"/v2/{name}/manifests/list");

        Assert.Equal(image.Manifest, await response.Content.ReadAsByteArrayAsync());
    }
}
