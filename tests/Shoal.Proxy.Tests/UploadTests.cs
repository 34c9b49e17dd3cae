using System.Net;
using System.Net.Http.Headers;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Core.Store;

namespace Shoal.Proxy.Tests;

public sealed class UploadTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ProxyCluster Cluster => fixture.Cluster;

    private HttpClient Http => Cluster.Http;

    [Fact]
    public async Task Post_WithDigestAndBody_Returns201AndBlobIsServable()
    {
        var repo = TestData.Repo();
        var data = TestData.RandomBytes(100_000);
        var digest = Digest.Compute(data);

        using var response = await Cluster.PostBlobAsync(repo, digest.ToString(), data);

        await RegistryAssert.StatusAsync(response, HttpStatusCode.Created);
        Assert.Equal($"/v2/{repo}/blobs/{digest}", response.Headers.Location!.OriginalString);
        Assert.Equal(digest.ToString(), RegistryAssert.Header(response, "Docker-Content-Digest"));
        Assert.Equal(data, await Http.GetByteArrayAsync($"/v2/{repo}/blobs/{digest}"));
        Assert.True(await Cluster.BuildIndex.HasBlobLinkAsync(repo, digest, CancellationToken.None));
        Assert.Equal(data.Length, await Cluster.Origin.StatAsync(digest, repo, CancellationToken.None));
        Assert.Empty(Cluster.ProxySessions(repo));
    }

    [Fact]
    public async Task Post_WithDigestNotMatchingBody_Returns400DigestInvalidAndNothingVisible()
    {
        var repo = TestData.Repo();
        var data = TestData.RandomBytes(5000);
        var claimed = Digest.Compute(TestData.RandomBytes(10));

        using var response = await Cluster.PostBlobAsync(repo, claimed.ToString(), data);

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID);
        await AssertBlobAbsentAsync(repo, claimed);
        await AssertBlobAbsentAsync(repo, Digest.Compute(data));
        Assert.Empty(Cluster.ProxySessions(repo));
    }

    [Fact]
    public async Task Post_WithoutDigest_Returns202WithSessionHeaders()
    {
        var repo = TestData.Repo();

        using var response = await Http.PostAsync($"/v2/{repo}/blobs/uploads/", null);

        await RegistryAssert.StatusAsync(response, HttpStatusCode.Accepted);
        var location = response.Headers.Location!.OriginalString;
        var id = RegistryAssert.Header(response, "Docker-Upload-UUID");
        Assert.Equal($"/v2/{repo}/blobs/uploads/{id}", location);
        Assert.True(UploadStore.IsValidId(id));
        Assert.Equal("0-0", RegistryAssert.Header(response, "Range"));
    }

    [Fact]
    public async Task ChunkedUpload_PatchesThenPutWithLastChunk_Returns201AndBlobIsServable()
    {
        var repo = TestData.Repo();
        var data = TestData.RandomBytes(300_000);
        var digest = Digest.Compute(data);
        var location = await Cluster.StartUploadAsync(repo);

        // First chunk with a Content-Range, second streamed without one (appended), last one with the PUT.
        using (var first = await Cluster.PatchAsync(location, data[..100_000], "0-99999"))
        {
            await RegistryAssert.StatusAsync(first, HttpStatusCode.Accepted);
            Assert.Equal("0-99999", RegistryAssert.Header(first, "Range"));
            Assert.Equal(location, first.Headers.Location!.OriginalString);
            Assert.Equal(location[(location.LastIndexOf('/') + 1)..], RegistryAssert.Header(first, "Docker-Upload-UUID"));
        }
        using (var second = await Cluster.PatchAsync(location, data[100_000..250_000]))
        {
            await RegistryAssert.StatusAsync(second, HttpStatusCode.Accepted);
            Assert.Equal("0-249999", RegistryAssert.Header(second, "Range"));
        }
        using (var status = await Http.GetAsync(location))
        {
            await RegistryAssert.StatusAsync(status, HttpStatusCode.NoContent);
            Assert.Equal("0-249999", RegistryAssert.Header(status, "Range"));
            Assert.Equal(location, status.Headers.Location!.OriginalString);
        }
        using (var done = await Cluster.CompleteAsync(location, digest.ToString(), data[250_000..]))
        {
            await RegistryAssert.StatusAsync(done, HttpStatusCode.Created);
            Assert.Equal($"/v2/{repo}/blobs/{digest}", done.Headers.Location!.OriginalString);
            Assert.Equal(digest.ToString(), RegistryAssert.Header(done, "Docker-Content-Digest"));
        }

        Assert.Equal(data, await Http.GetByteArrayAsync($"/v2/{repo}/blobs/{digest}"));
        using var gone = await Http.GetAsync(location);
        await RegistryAssert.ErrorAsync(gone, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UPLOAD_UNKNOWN);
        Assert.Empty(Cluster.ProxySessions(repo));
    }

    [Fact]
    public async Task ChunkedUpload_EmptyBlobWithoutBody_Returns201()
    {
        var repo = TestData.Repo();
        var digest = Digest.Compute([]);
        var location = await Cluster.StartUploadAsync(repo);

        using var done = await Cluster.CompleteAsync(location, digest.ToString());

        await RegistryAssert.StatusAsync(done, HttpStatusCode.Created);
        using var get = await Http.GetAsync($"/v2/{repo}/blobs/{digest}");
        await RegistryAssert.StatusAsync(get, HttpStatusCode.OK);
        Assert.Empty(await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Patch_ContentRangeNotAtCurrentOffset_Returns416AndSessionUnchanged()
    {
        var repo = TestData.Repo();
        var data = TestData.RandomBytes(2000);
        var location = await Cluster.StartUploadAsync(repo);
        using (var first = await Cluster.PatchAsync(location, data[..1000], "0-999"))
        {
            await RegistryAssert.StatusAsync(first, HttpStatusCode.Accepted);
        }

        // Replaying the first chunk, and skipping ahead, are both refused.
        using (var replay = await Cluster.PatchAsync(location, data[..1000], "0-999"))
        {
            await RegistryAssert.ErrorAsync(replay, HttpStatusCode.RequestedRangeNotSatisfiable, RegistryErrorCode.RANGE_INVALID);
            Assert.Equal("0-999", RegistryAssert.Header(replay, "Range"));
            Assert.Equal(location, replay.Headers.Location!.OriginalString);
        }
        using (var ahead = await Cluster.PatchAsync(location, data[1000..1500], "1500-1999"))
        {
            await RegistryAssert.ErrorAsync(ahead, HttpStatusCode.RequestedRangeNotSatisfiable, RegistryErrorCode.RANGE_INVALID);
        }

        using var status = await Http.GetAsync(location);
        Assert.Equal("0-999", RegistryAssert.Header(status, "Range"));
        using (var next = await Cluster.PatchAsync(location, data[1000..], "1000-1999"))
        {
            await RegistryAssert.StatusAsync(next, HttpStatusCode.Accepted);
        }
        using var done = await Cluster.CompleteAsync(location, Digest.Compute(data).ToString());
        await RegistryAssert.StatusAsync(done, HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("10-5")]
    [InlineData("-5")]
    [InlineData("0-")]
    public async Task Patch_MalformedContentRange_Returns416(string contentRange)
    {
        var location = await Cluster.StartUploadAsync(TestData.Repo());

        using var response = await Cluster.PatchAsync(location, TestData.RandomBytes(6), contentRange);

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.RequestedRangeNotSatisfiable, RegistryErrorCode.RANGE_INVALID);
        using var status = await Http.GetAsync(location);
        Assert.Equal("0-0", RegistryAssert.Header(status, "Range"));
    }

    [Fact]
    public async Task Patch_ContentLengthDisagreesWithContentRange_Returns400SizeInvalid()
    {
        var location = await Cluster.StartUploadAsync(TestData.Repo());

        using var response = await Cluster.PatchAsync(location, TestData.RandomBytes(100), "0-199");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.BadRequest, RegistryErrorCode.SIZE_INVALID);
        using var status = await Http.GetAsync(location);
        Assert.Equal("0-0", RegistryAssert.Header(status, "Range"));
    }

    [Theory]
    [InlineData(150)]
    [InlineData(250)]
    public async Task Patch_ChunkedBodyOfOtherLengthThanContentRange_Returns400SizeInvalidAndSessionUnchanged(int bodyLength)
    {
        var location = await Cluster.StartUploadAsync(TestData.Repo());
        // No Content-Length: the body is sent with chunked transfer encoding, so only its end tells its length.
        var content = new StreamContent(new MemoryStream(TestData.RandomBytes(bodyLength)));
        content.Headers.TryAddWithoutValidation("Content-Range", "0-199");
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await Http.SendAsync(request);

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.BadRequest, RegistryErrorCode.SIZE_INVALID);
        using var status = await Http.GetAsync(location);
        Assert.Equal("0-0", RegistryAssert.Header(status, "Range"));
    }

    [Fact]
    public async Task Put_DigestNotMatchingUpload_Returns400DigestInvalidAndNothingVisible()
    {
        var repo = TestData.Repo();
        var data = TestData.RandomBytes(4000);
        var wrong = Digest.Compute(TestData.RandomBytes(4000));
        var location = await Cluster.StartUploadAsync(repo);
        using (var patch = await Cluster.PatchAsync(location, data))
        {
            await RegistryAssert.StatusAsync(patch, HttpStatusCode.Accepted);
        }

        using var response = await Cluster.CompleteAsync(location, wrong.ToString());

        var message = await RegistryAssert.ErrorAsync(response, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID);
        Assert.Contains(Digest.Compute(data).ToString(), message, StringComparison.Ordinal);
        await AssertBlobAbsentAsync(repo, wrong);
        await AssertBlobAbsentAsync(repo, Digest.Compute(data));
        Assert.Null(await Cluster.Origin.StatAsync(wrong, null, CancellationToken.None));
        using var status = await Http.GetAsync(location);
        await RegistryAssert.ErrorAsync(status, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UPLOAD_UNKNOWN);
    }

    [Fact]
    public async Task Put_WithoutDigest_Returns400DigestInvalidAndSessionStays()
    {
        var location = await Cluster.StartUploadAsync(TestData.Repo());

        using var response = await Http.PutAsync(location, null);

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID);
        using var status = await Http.GetAsync(location);
        await RegistryAssert.StatusAsync(status, HttpStatusCode.NoContent);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("not-an-id")]
    [InlineData("0123456789abcdef0123456789abcde")]
    [InlineData("..%2F..%2Fetc")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    public async Task Upload_UnknownId_Returns404BlobUploadUnknown(string id)
    {
        var repo = TestData.Repo();
        var location = $"/v2/{repo}/blobs/uploads/{id}";
        var digest = Digest.Compute([1, 2, 3]).ToString();

        using var get = await Http.GetAsync(location);
        using var patch = await Cluster.PatchAsync(location, [1, 2, 3]);
        using var put = await Cluster.CompleteAsync(location, digest, [1, 2, 3]);
        using var delete = await Http.DeleteAsync(location);

        foreach (var response in new[] { get, patch, put, delete })
        {
            await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UPLOAD_UNKNOWN);
        }
        await AssertBlobAbsentAsync(repo, Digest.Compute([1, 2, 3]));
    }

    [Fact]
    public async Task Upload_IdOfAnotherRepository_Returns404BlobUploadUnknown()
    {
        var owner = TestData.Repo();
        var other = TestData.Repo();
        var data = TestData.RandomBytes(100);
        var location = await Cluster.StartUploadAsync(owner);
        var foreign = location.Replace(owner, other, StringComparison.Ordinal);

        using var get = await Http.GetAsync(foreign);
        using var patch = await Cluster.PatchAsync(foreign, data);
        using var put = await Cluster.CompleteAsync(foreign, Digest.Compute(data).ToString(), data);
        using var delete = await Http.DeleteAsync(foreign);

        foreach (var response in new[] { get, patch, put, delete })
        {
            await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UPLOAD_UNKNOWN);
        }
        await AssertBlobAbsentAsync(other, Digest.Compute(data));
        using var status = await Http.GetAsync(location);
        await RegistryAssert.StatusAsync(status, HttpStatusCode.NoContent);
        Assert.Equal("0-0", RegistryAssert.Header(status, "Range"));
    }

    [Fact]
    public async Task Delete_Session_Returns204ThenUnknown()
    {
        var location = await Cluster.StartUploadAsync(TestData.Repo());
        using (var patch = await Cluster.PatchAsync(location, TestData.RandomBytes(10)))
        {
            await RegistryAssert.StatusAsync(patch, HttpStatusCode.Accepted);
        }

        using var delete = await Http.DeleteAsync(location);

        await RegistryAssert.StatusAsync(delete, HttpStatusCode.NoContent);
        using var again = await Http.DeleteAsync(location);
        await RegistryAssert.ErrorAsync(again, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UPLOAD_UNKNOWN);
        using var patchAfter = await Cluster.PatchAsync(location, [1]);
        await RegistryAssert.ErrorAsync(patchAfter, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UPLOAD_UNKNOWN);
    }

    [Fact]
    public async Task Mount_BlobLinkedInFrom_Returns201AndLinksBlob()
    {
        var from = TestData.Repo("src");
        var to = TestData.Repo("dst");
        var data = TestData.RandomBytes(2000);
        var digest = await Cluster.PushBlobAsync(from, data);

        using var response = await Http.PostAsync($"/v2/{to}/blobs/uploads/?mount={digest}&from={from}", null);

        await RegistryAssert.StatusAsync(response, HttpStatusCode.Created);
        Assert.Equal($"/v2/{to}/blobs/{digest}", response.Headers.Location!.OriginalString);
        Assert.Equal(digest.ToString(), RegistryAssert.Header(response, "Docker-Content-Digest"));
        Assert.Equal(data, await Http.GetByteArrayAsync($"/v2/{to}/blobs/{digest}"));
        // A successful mount opens no upload session.
        Assert.Empty(Cluster.ProxySessions(to));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Mount_BlobNotInFromOrFromMissing_Returns202UploadThatWorks(bool withFrom)
    {
        var from = TestData.Repo("src");
        var to = TestData.Repo("dst");
        var data = TestData.RandomBytes(2000);
        var digest = Digest.Compute(data);
        await Cluster.PushBlobAsync(TestData.Repo("elsewhere"), data); // exists, but not in 'from'

        var url = withFrom ? $"/v2/{to}/blobs/uploads/?mount={digest}&from={from}" : $"/v2/{to}/blobs/uploads/?mount={digest}";
        using var response = await Http.PostAsync(url, null);

        await RegistryAssert.StatusAsync(response, HttpStatusCode.Accepted);
        await AssertBlobAbsentAsync(to, digest);
        var location = response.Headers.Location!.OriginalString;
        Assert.StartsWith($"/v2/{to}/blobs/uploads/", location, StringComparison.Ordinal);
        using var done = await Cluster.CompleteAsync(location, digest.ToString(), data);
        await RegistryAssert.StatusAsync(done, HttpStatusCode.Created);
        Assert.Equal(data, await Http.GetByteArrayAsync($"/v2/{to}/blobs/{digest}"));
    }

    [Fact]
    public async Task Mount_MalformedDigest_Returns400DigestInvalid()
    {
        using var response = await Http.PostAsync($"/v2/{TestData.Repo()}/blobs/uploads/?mount=sha256:1234&from={TestData.Repo()}", null);

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID);
    }

    [Fact]
    public async Task ConcurrentPatches_SameOffset_OnlyOneIsAppended()
    {
        var location = await Cluster.StartUploadAsync(TestData.Repo());
        var a = TestData.RandomBytes(500_000);
        var b = TestData.RandomBytes(500_000);

        var responses = await Task.WhenAll(Cluster.PatchAsync(location, a, "0-499999"), Cluster.PatchAsync(location, b, "0-499999"));

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.RequestedRangeNotSatisfiable], responses.Select(r => r.StatusCode).Order());
        using var status = await Http.GetAsync(location);
        Assert.Equal("0-499999", RegistryAssert.Header(status, "Range"));
        var winner = responses[0].StatusCode == HttpStatusCode.Accepted ? a : b;
        using var done = await Cluster.CompleteAsync(location, Digest.Compute(winner).ToString());
        await RegistryAssert.StatusAsync(done, HttpStatusCode.Created);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    private async Task AssertBlobAbsentAsync(string repo, Digest digest)
    {
        using var get = await Http.GetAsync($"/v2/{repo}/blobs/{digest}");
        await RegistryAssert.ErrorAsync(get, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UNKNOWN);
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repo}/blobs/{digest}"));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.False(await Cluster.BuildIndex.HasBlobLinkAsync(repo, digest, CancellationToken.None));
    }
}
