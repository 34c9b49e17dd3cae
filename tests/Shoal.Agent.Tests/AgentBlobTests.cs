using System.Net;
using System.Net.Http.Headers;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Agent.Tests;

public sealed class AgentBlobTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task GetBlob_Uncached_DownloadsOnceAndServesIdenticalBytes()
    {
        var content = TestData.Random(3 * 1024 * 1024 + 17);
        var digest = await _cluster.PushBlobAsync(TestData.Repository, content);
        Assert.False(_cluster.Agent.Store.Contains(digest));

        using var first = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");
        using var second = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(content, await first.Content.ReadAsByteArrayAsync());
        Assert.Equal(digest.ToString(), RegistryAssert.Single(first, "Docker-Content-Digest"));
        Assert.Equal("registry/2.0", RegistryAssert.Single(first, RegistryAssert.ApiVersionHeader));
        Assert.Equal(content, await second.Content.ReadAsByteArrayAsync());
        Assert.True(_cluster.Agent.Store.Contains(digest));
        Assert.Equal(1, _cluster.Agent.Stats.BlobsDownloaded);
        Assert.Equal(content.Length, _cluster.Agent.Stats.BytesDownloaded);
        Assert.Equal(1, _cluster.Agent.Stats.CacheHits);
    }

    [Fact]
    public async Task GetBlob_Range_Returns206WithTheSlice()
    {
        var content = TestData.Random(100_000);
        var digest = await _cluster.PushBlobAsync(TestData.Repository, content);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{TestData.Repository}/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(1000, 1999);

        using var response = await _cluster.Agent.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 1000-1999/100000", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(content.AsSpan(1000, 1000).ToArray(), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetBlob_RangeBeyondTheEnd_Returns416()
    {
        var content = TestData.Random(1000);
        var digest = await _cluster.PushBlobAsync(TestData.Repository, content);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{TestData.Repository}/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(5000, null);

        using var response = await _cluster.Agent.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
    }

    [Fact]
    public async Task HeadBlob_Uncached_ReturnsLengthWithoutDownloading()
    {
        var content = TestData.Random(123_456);
        var digest = await _cluster.PushBlobAsync(TestData.Repository, content);

        using var response = await _cluster.Agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{TestData.Repository}/blobs/{digest}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content.Length, response.Content.Headers.ContentLength);
        Assert.Equal(digest.ToString(), RegistryAssert.Single(response, "Docker-Content-Digest"));
        Assert.Equal(0, _cluster.Agent.Stats.DownloadsStarted);
        Assert.False(_cluster.Agent.Store.Contains(digest));
    }

    [Fact]
    public async Task HeadBlob_Cached_ReturnsLength()
    {
        var content = TestData.Random(4321);
        var digest = await _cluster.PushBlobAsync(TestData.Repository, content);
        (await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}")).Dispose();
        await _cluster.StopOriginAsync();

        using var response = await _cluster.Agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{TestData.Repository}/blobs/{digest}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content.Length, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task GetBlob_WithNsQuery_IsAccepted()
    {
        var content = TestData.Random(2048);
        var digest = await _cluster.PushBlobAsync(TestData.Repository, content);

        using var response = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}?ns=registry.example");
        using var head = await _cluster.Agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{TestData.Repository}/blobs/{digest}?ns=registry.example"));
        using var root = await _cluster.Agent.Client.GetAsync("/v2/?ns=registry.example");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
    }

    [Fact]
    public async Task GetBlob_TwentyConcurrentRequests_DownloadOnceAndServeIdenticalBytes()
    {
        var content = TestData.Random(8 * 1024 * 1024);
        var digest = await _cluster.PushBlobAsync(TestData.Repository, content);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var requests = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            using var response = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        })).ToArray();
        start.SetResult();
        var bodies = await Task.WhenAll(requests);

        Assert.All(bodies, body => Assert.True(body.AsSpan().SequenceEqual(content)));
        Assert.Equal(1, _cluster.Agent.Stats.DownloadsStarted);
        Assert.Equal(1, _cluster.Agent.Stats.BlobsDownloaded);
        Assert.Equal(20, _cluster.Agent.Stats.DownloadsJoined + _cluster.Agent.Stats.CacheHits + 1);
    }

    [Fact]
    public async Task GetBlob_Unknown_Returns404BlobUnknown()
    {
        var digest = Digest.Compute([1, 2, 3, 4]);

        using var get = await _cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");
        using var head = await _cluster.Agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{TestData.Repository}/blobs/{digest}"));

        await RegistryAssert.ErrorAsync(get, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UNKNOWN);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.False(_cluster.Agent.Store.Contains(digest));
    }

    [Theory]
    [InlineData("/v2/team/app/blobs/sha256:1234")]
    [InlineData("/v2/team/app/blobs/sha512:1234")]
    [InlineData("/v2/team/app/blobs/latest")]
    public async Task GetBlob_MalformedDigest_Returns400DigestInvalid(string path)
    {
        using var response = await _cluster.Agent.Client.GetAsync(path);

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID);
    }
}
