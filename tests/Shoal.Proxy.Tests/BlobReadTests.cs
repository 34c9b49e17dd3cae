using System.Net;
using System.Net.Http.Headers;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Tests;

public sealed class BlobReadTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ProxyCluster Cluster => fixture.Cluster;

    private HttpClient Http => Cluster.Http;

    [Fact]
    public async Task Get_LinkedBlob_Returns200WithDigestLengthAndETag()
    {
        var repo = TestData.Repo();
        var data = TestData.RandomBytes(70_000);
        var digest = await Cluster.PushBlobAsync(repo, data);

        using var response = await Http.GetAsync($"/v2/{repo}/blobs/{digest}");

        await RegistryAssert.StatusAsync(response, HttpStatusCode.OK);
        Assert.Equal(data, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(digest.ToString(), RegistryAssert.Header(response, "Docker-Content-Digest"));
        Assert.Equal(data.Length, response.Content.Headers.ContentLength);
        Assert.Equal($"\"{digest}\"", response.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Head_LinkedBlob_ReturnsHeadersWithoutBody()
    {
        var repo = TestData.Repo();
        var data = TestData.RandomBytes(12_345);
        var digest = await Cluster.PushBlobAsync(repo, data);

        using var response = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repo}/blobs/{digest}"));

        await RegistryAssert.StatusAsync(response, HttpStatusCode.OK);
        Assert.Equal(12_345, response.Content.Headers.ContentLength);
        Assert.Equal(digest.ToString(), RegistryAssert.Header(response, "Docker-Content-Digest"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(100, 199)]
    [InlineData(0, 0)]
    [InlineData(9_000, 20_000)] // runs past the end: clipped
    public async Task Get_Range_Returns206WithThoseBytes(long from, long to)
    {
        var repo = TestData.Repo();
        var data = TestData.RandomBytes(10_000);
        var digest = await Cluster.PushBlobAsync(repo, data);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repo}/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(from, to);

        using var response = await Http.SendAsync(request);

        await RegistryAssert.StatusAsync(response, HttpStatusCode.PartialContent);
        var end = Math.Min(to, data.Length - 1);
        Assert.Equal(data[(int)from..(int)(end + 1)], await response.Content.ReadAsByteArrayAsync());
        var range = response.Content.Headers.ContentRange!;
        Assert.Equal((from, end, (long)data.Length), (range.From!.Value, range.To!.Value, range.Length!.Value));
    }

    [Fact]
    public async Task Get_SuffixRange_Returns206WithTheLastBytes()
    {
        var repo = TestData.Repo();
        var data = TestData.RandomBytes(1000);
        var digest = await Cluster.PushBlobAsync(repo, data);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repo}/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(null, 10);

        using var response = await Http.SendAsync(request);

        await RegistryAssert.StatusAsync(response, HttpStatusCode.PartialContent);
        Assert.Equal(data[^10..], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_RangeBeyondEnd_Returns416()
    {
        var repo = TestData.Repo();
        var digest = await Cluster.PushBlobAsync(repo, TestData.RandomBytes(1000));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repo}/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(1000, null);

        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */1000", response.Content.Headers.GetValues("Content-Range").Single());
    }

    [Fact]
    public async Task Get_BlobOfAnotherRepository_Returns404BlobUnknown()
    {
        var owner = TestData.Repo();
        var other = TestData.Repo();
        var digest = await Cluster.PushBlobAsync(owner, TestData.RandomBytes(100));

        using var get = await Http.GetAsync($"/v2/{other}/blobs/{digest}");

        await RegistryAssert.ErrorAsync(get, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UNKNOWN);
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{other}/blobs/{digest}"));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task Get_LinkedButMissingFromOrigins_Returns404BlobUnknown()
    {
        var repo = TestData.Repo();
        var digest = Digest.Compute(TestData.RandomBytes(10));
        await Cluster.BuildIndex.PutBlobLinkAsync(repo, digest, CancellationToken.None);

        using var get = await Http.GetAsync($"/v2/{repo}/blobs/{digest}");

        var message = await RegistryAssert.ErrorAsync(get, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UNKNOWN);
        Assert.Contains("no origin", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_LinkedBlob_Returns202AndBlobIsGoneFromRepository()
    {
        var repo = TestData.Repo();
        var other = TestData.Repo();
        var data = TestData.RandomBytes(100);
        var digest = await Cluster.PushBlobAsync(repo, data);
        await Cluster.PushBlobAsync(other, data);

        using var delete = await Http.DeleteAsync($"/v2/{repo}/blobs/{digest}");

        await RegistryAssert.StatusAsync(delete, HttpStatusCode.Accepted);
        using var get = await Http.GetAsync($"/v2/{repo}/blobs/{digest}");
        await RegistryAssert.ErrorAsync(get, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UNKNOWN);
        using var again = await Http.DeleteAsync($"/v2/{repo}/blobs/{digest}");
        await RegistryAssert.ErrorAsync(again, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UNKNOWN);
        // Other repositories keep their link.
        Assert.Equal(data, await Http.GetByteArrayAsync($"/v2/{other}/blobs/{digest}"));
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("notadigest")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    public async Task Get_MalformedDigest_Returns400DigestInvalid(string digest)
    {
        using var get = await Http.GetAsync($"/v2/{TestData.Repo()}/blobs/{digest}");
        using var delete = await Http.DeleteAsync($"/v2/{TestData.Repo()}/blobs/{digest}");

        await RegistryAssert.ErrorAsync(get, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID);
        await RegistryAssert.ErrorAsync(delete, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID);
    }

    [Fact]
    public async Task Get_Sha512Digest_Returns400SayingOnlySha256IsSupported()
    {
        var sha512 = "sha512:" + new string('a', 128);

        using var get = await Http.GetAsync($"/v2/{TestData.Repo()}/blobs/{sha512}");
        using var post = await Cluster.PostBlobAsync(TestData.Repo(), sha512, [1, 2, 3]);

        Assert.Contains("only sha256", await RegistryAssert.ErrorAsync(get, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID), StringComparison.Ordinal);
        Assert.Contains("only sha256", await RegistryAssert.ErrorAsync(post, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID), StringComparison.Ordinal);
    }
}
