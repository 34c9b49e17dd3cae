using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Tests;

public sealed class ManifestTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ProxyCluster Cluster => fixture.Cluster;

    private HttpClient Http => Cluster.Http;

    [Theory]
    [InlineData(MediaTypes.OciManifest)]
    [InlineData(MediaTypes.DockerManifest)]
    public async Task Put_ImageManifestByTag_Returns201AndGetServesSameBytes(string mediaType)
    {
        var repo = TestData.Repo();
        var config = TestData.Config();
        var configDigest = await Cluster.PushBlobAsync(repo, config);
        var layer = TestData.RandomBytes(5000);
        var layerDigest = await Cluster.PushBlobAsync(repo, layer);
        var manifest = TestData.ImageManifest(mediaType, (configDigest, config.Length), [(layerDigest, layer.Length)]);
        var digest = Digest.Compute(manifest);

        using var put = await Cluster.PutManifestAsync(repo, "v1", manifest, mediaType);

        await RegistryAssert.StatusAsync(put, HttpStatusCode.Created);
        Assert.Equal($"/v2/{repo}/manifests/{digest}", put.Headers.Location!.OriginalString);
        Assert.Equal(digest.ToString(), RegistryAssert.Header(put, "Docker-Content-Digest"));
        foreach (var reference in new[] { "v1", digest.ToString() })
        {
            using var get = await Http.GetAsync($"/v2/{repo}/manifests/{reference}");
            await RegistryAssert.StatusAsync(get, HttpStatusCode.OK);
            Assert.Equal(manifest, await get.Content.ReadAsByteArrayAsync());
            Assert.Equal(mediaType, get.Content.Headers.ContentType!.MediaType);
            Assert.Equal(digest.ToString(), RegistryAssert.Header(get, "Docker-Content-Digest"));
            Assert.Equal(manifest.Length, get.Content.Headers.ContentLength);
        }
        Assert.Equal(new Shoal.Clients.BuildIndex.ManifestRecord(mediaType, manifest.Length), await Cluster.BuildIndex.GetManifestAsync(repo, digest, CancellationToken.None));
        // The manifest's bytes are a blob of the repository too.
        Assert.Equal(manifest, await Http.GetByteArrayAsync($"/v2/{repo}/blobs/{digest}"));
    }

    [Theory]
    [InlineData(MediaTypes.OciIndex, MediaTypes.OciManifest)]
    [InlineData(MediaTypes.DockerManifestList, MediaTypes.DockerManifest)]
    public async Task Put_IndexReferencingTwoManifests_Returns201AndGetServesIt(string indexType, string childType)
    {
        var repo = TestData.Repo();
        var amd64 = await Cluster.PushImageAsync(repo, "amd64", childType);
        var arm64 = await Cluster.PushImageAsync(repo, "arm64", childType);
        var index = TestData.Index(indexType, amd64, arm64);

        var digest = await Cluster.PushManifestAsync(repo, "multi", index, indexType);

        using var get = await Http.GetAsync($"/v2/{repo}/manifests/multi");
        await RegistryAssert.StatusAsync(get, HttpStatusCode.OK);
        Assert.Equal(index, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(indexType, get.Content.Headers.ContentType!.MediaType);
        Assert.Equal(digest.ToString(), RegistryAssert.Header(get, "Docker-Content-Digest"));
        // And the children by digest, as a client resolving the platform does.
        using var child = await Http.GetAsync($"/v2/{repo}/manifests/{arm64.Digest}");
        Assert.Equal(arm64.Manifest, await child.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Put_ByDigest_Returns201WithoutCreatingATag()
    {
        var repo = TestData.Repo();
        var image = await Cluster.PushImageAsync(repo, "first");
        var config = TestData.Config();
        var configDigest = await Cluster.PushBlobAsync(repo, config);
        var manifest = TestData.ImageManifest(MediaTypes.OciManifest, (configDigest, config.Length), []);
        var digest = Digest.Compute(manifest);

        using var put = await Cluster.PutManifestAsync(repo, digest.ToString(), manifest, MediaTypes.OciManifest);

        await RegistryAssert.StatusAsync(put, HttpStatusCode.Created);
        using var get = await Http.GetAsync($"/v2/{repo}/manifests/{digest}");
        Assert.Equal(manifest, await get.Content.ReadAsByteArrayAsync());
        var tags = await Cluster.BuildIndex.ListTagsAsync(repo, null, null, CancellationToken.None);
        Assert.Equal(["first"], tags!.Items);
        Assert.NotEqual(image.Digest, digest);
    }

    [Fact]
    public async Task Put_DigestReferenceNotMatchingBody_Returns400DigestInvalidAndNothingVisible()
    {
        var repo = TestData.Repo();
        var config = TestData.Config();
        var configDigest = await Cluster.PushBlobAsync(repo, config);
        var manifest = TestData.ImageManifest(MediaTypes.OciManifest, (configDigest, config.Length), []);
        var wrong = Digest.Compute(Encoding.UTF8.GetBytes("something else"));

        using var put = await Cluster.PutManifestAsync(repo, wrong.ToString(), manifest, MediaTypes.OciManifest);

        await RegistryAssert.ErrorAsync(put, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID);
        await AssertManifestAbsentAsync(repo, wrong.ToString());
        await AssertManifestAbsentAsync(repo, Digest.Compute(manifest).ToString());
    }

    [Fact]
    public async Task Put_ManifestReferencingMissingLayer_Returns400ManifestBlobUnknownAndNothingVisible()
    {
        var repo = TestData.Repo();
        var config = TestData.Config();
        var configDigest = await Cluster.PushBlobAsync(repo, config);
        var missing = Digest.Compute(TestData.RandomBytes(50));
        // The layer exists, but in another repository: that does not count.
        var elsewhere = await Cluster.PushBlobAsync(TestData.Repo(), TestData.RandomBytes(50));
        foreach (var layer in new[] { missing, elsewhere })
        {
            var manifest = TestData.ImageManifest(MediaTypes.OciManifest, (configDigest, config.Length), [(layer, 50)]);

            using var put = await Cluster.PutManifestAsync(repo, "broken", manifest, MediaTypes.OciManifest);

            await RegistryAssert.ErrorAsync(put, HttpStatusCode.BadRequest, RegistryErrorCode.MANIFEST_BLOB_UNKNOWN);
            Assert.Equal(layer.ToString(), await RegistryAssert.DetailAsync(put, "digest"));
            await AssertManifestAbsentAsync(repo, "broken");
            await AssertManifestAbsentAsync(repo, Digest.Compute(manifest).ToString());
        }
    }

    [Fact]
    public async Task Put_ManifestWithMissingConfig_Returns400ManifestBlobUnknown()
    {
        var repo = TestData.Repo();
        var missing = Digest.Compute(TestData.Config());
        var manifest = TestData.ImageManifest(MediaTypes.DockerManifest, (missing, 10), []);

        using var put = await Cluster.PutManifestAsync(repo, "latest", manifest, MediaTypes.DockerManifest);

        await RegistryAssert.ErrorAsync(put, HttpStatusCode.BadRequest, RegistryErrorCode.MANIFEST_BLOB_UNKNOWN);
        Assert.Equal(missing.ToString(), await RegistryAssert.DetailAsync(put, "digest"));
    }

    [Fact]
    public async Task Put_IndexWithChildNotInRepository_Returns400ManifestBlobUnknown()
    {
        var repo = TestData.Repo();
        var present = await Cluster.PushImageAsync(repo, "amd64");
        var foreign = await Cluster.PushImageAsync(TestData.Repo(), "arm64");
        var index = TestData.Index(MediaTypes.OciIndex, present, foreign);

        using var put = await Cluster.PutManifestAsync(repo, "multi", index, MediaTypes.OciIndex);

        await RegistryAssert.ErrorAsync(put, HttpStatusCode.BadRequest, RegistryErrorCode.MANIFEST_BLOB_UNKNOWN);
        Assert.Equal(foreign.Digest.ToString(), await RegistryAssert.DetailAsync(put, "digest"));
        await AssertManifestAbsentAsync(repo, "multi");
    }

    [Theory]
    [InlineData("not json", MediaTypes.OciManifest)]
    [InlineData("[1,2,3]", MediaTypes.OciManifest)]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}""", MediaTypes.OciManifest)]
    [InlineData("""{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}""", "application/vnd.docker.distribution.manifest.v1+prettyjws")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""", MediaTypes.OciManifest)]
    [InlineData("""{"schemaVersion":2,"config":{"mediaType":"x/y","digest":"sha256:abc","size":1},"layers":[]}""", MediaTypes.OciManifest)]
    public async Task Put_InvalidManifest_Returns400ManifestInvalid(string body, string contentType)
    {
        var repo = TestData.Repo();

        using var put = await Cluster.PutManifestAsync(repo, "bad", Encoding.UTF8.GetBytes(body), contentType);

        await RegistryAssert.ErrorAsync(put, HttpStatusCode.BadRequest, RegistryErrorCode.MANIFEST_INVALID);
        await AssertManifestAbsentAsync(repo, "bad");
    }

    [Fact]
    public async Task Put_LargerThan4MiB_Returns413AndExactly4MiBIsAccepted()
    {
        var repo = TestData.Repo();
        var config = TestData.Config();
        var configDigest = await Cluster.PushBlobAsync(repo, config);
        var tooBig = TestData.ManifestOfSize(ManifestDocument.MaxSize + 1, (configDigest, config.Length));
        var justRight = TestData.ManifestOfSize(ManifestDocument.MaxSize, (configDigest, config.Length));

        using (var put = await Cluster.PutManifestAsync(repo, "big", tooBig, MediaTypes.OciManifest))
        {
            await RegistryAssert.ErrorAsync(put, HttpStatusCode.RequestEntityTooLarge, RegistryErrorCode.MANIFEST_INVALID);
        }
        await AssertManifestAbsentAsync(repo, "big");
        await AssertManifestAbsentAsync(repo, Digest.Compute(tooBig).ToString());

        var digest = await Cluster.PushManifestAsync(repo, "big", justRight, MediaTypes.OciManifest);
        using var get = await Http.GetAsync($"/v2/{repo}/manifests/big");
        Assert.Equal(digest.ToString(), RegistryAssert.Header(get, "Docker-Content-Digest"));
        Assert.Equal(justRight, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Put_TooLargeWithChunkedEncoding_Returns413()
    {
        var repo = TestData.Repo();
        var content = new StreamContent(new MemoryStream(new byte[ManifestDocument.MaxSize + 10]));
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v2/{repo}/manifests/big") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var put = await Http.SendAsync(request);

        await RegistryAssert.ErrorAsync(put, HttpStatusCode.RequestEntityTooLarge, RegistryErrorCode.MANIFEST_INVALID);
    }

    [Fact]
    public async Task Put_WithSubject_Returns201WithoutOciSubjectHeader()
    {
        var repo = TestData.Repo();
        var image = await Cluster.PushImageAsync(repo, "v1");
        var config = TestData.Config();
        var configDigest = await Cluster.PushBlobAsync(repo, config);
        var signature = TestData.ImageManifest(MediaTypes.OciManifest, (configDigest, config.Length), [],
            subject: (image.Digest, image.Manifest.Length, MediaTypes.OciManifest));

        using var put = await Cluster.PutManifestAsync(repo, Digest.Compute(signature).ToString(), signature, MediaTypes.OciManifest);

        await RegistryAssert.StatusAsync(put, HttpStatusCode.Created);
        // The referrers API is not implemented, so clients must keep maintaining the referrers tag themselves.
        Assert.False(put.Headers.Contains("OCI-Subject"));
        using var referrers = await Http.GetAsync($"/v2/{repo}/referrers/{image.Digest}");
        await RegistryAssert.ErrorAsync(referrers, HttpStatusCode.NotFound, RegistryErrorCode.UNSUPPORTED);
    }

    [Fact]
    public async Task Put_ContentTypeContradictingDocument_Returns400ManifestInvalid()
    {
        var repo = TestData.Repo();
        var config = TestData.Config();
        var configDigest = await Cluster.PushBlobAsync(repo, config);
        var manifest = TestData.ImageManifest(MediaTypes.OciManifest, (configDigest, config.Length), []);

        using var put = await Cluster.PutManifestAsync(repo, "v1", manifest, MediaTypes.DockerManifest);

        await RegistryAssert.ErrorAsync(put, HttpStatusCode.BadRequest, RegistryErrorCode.MANIFEST_INVALID);
    }

    [Theory]
    [InlineData(".hidden")]
    [InlineData("-dash")]
    [InlineData("has+plus")]
    public async Task Put_InvalidTag_Returns400TagInvalid(string tag)
    {
        var repo = TestData.Repo();

        using var put = await Cluster.PutManifestAsync(repo, tag, Encoding.UTF8.GetBytes("{}"), MediaTypes.OciManifest);

        await RegistryAssert.ErrorAsync(put, HttpStatusCode.BadRequest, RegistryErrorCode.TAG_INVALID);
    }

    [Fact]
    public async Task Put_TagTooLong_Returns400TagInvalid()
    {
        using var put = await Cluster.PutManifestAsync(TestData.Repo(), new string('t', 129), Encoding.UTF8.GetBytes("{}"), MediaTypes.OciManifest);

        await RegistryAssert.ErrorAsync(put, HttpStatusCode.BadRequest, RegistryErrorCode.TAG_INVALID);
    }

    [Fact]
    public async Task Put_Sha512Reference_Returns400DigestInvalid()
    {
        using var put = await Cluster.PutManifestAsync(TestData.Repo(), "sha512:" + new string('0', 128), Encoding.UTF8.GetBytes("{}"), MediaTypes.OciManifest);

        var message = await RegistryAssert.ErrorAsync(put, HttpStatusCode.BadRequest, RegistryErrorCode.DIGEST_INVALID);
        Assert.Contains("not supported", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_SameTagAgain_MovesTheTag()
    {
        var repo = TestData.Repo();
        await Cluster.PushImageAsync(repo, "latest");
        var second = await Cluster.PushImageAsync(repo, "latest");

        using var get = await Http.GetAsync($"/v2/{repo}/manifests/latest");

        Assert.Equal(second.Digest.ToString(), RegistryAssert.Header(get, "Docker-Content-Digest"));
    }

    [Fact]
    public async Task Head_ByTag_ReturnsHeadersWithoutBody()
    {
        var repo = TestData.Repo();
        var image = await Cluster.PushImageAsync(repo, "v1", MediaTypes.DockerManifest);

        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repo}/manifests/v1"));

        await RegistryAssert.StatusAsync(head, HttpStatusCode.OK);
        Assert.Equal(image.Digest.ToString(), RegistryAssert.Header(head, "Docker-Content-Digest"));
        Assert.Equal(image.Manifest.Length, head.Content.Headers.ContentLength);
        Assert.Equal(MediaTypes.DockerManifest, head.Content.Headers.ContentType!.MediaType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_UnknownTagOrDigest_Returns404ManifestUnknown()
    {
        var repo = TestData.Repo();
        var image = await Cluster.PushImageAsync(repo, "v1");
        var other = TestData.Repo();

        using var unknownTag = await Http.GetAsync($"/v2/{repo}/manifests/v2");
        using var unknownDigest = await Http.GetAsync($"/v2/{repo}/manifests/{Digest.Compute([1])}");
        using var otherRepo = await Http.GetAsync($"/v2/{other}/manifests/{image.Digest}");
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{other}/manifests/v1"));

        await RegistryAssert.ErrorAsync(unknownTag, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
        await RegistryAssert.ErrorAsync(unknownDigest, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
        await RegistryAssert.ErrorAsync(otherRepo, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task Get_AcceptExcludingStoredType_Returns404NamingTheType()
    {
        var repo = TestData.Repo();
        await Cluster.PushImageAsync(repo, "v1", MediaTypes.OciManifest);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repo}/manifests/v1");
        request.Headers.Accept.ParseAdd(MediaTypes.DockerManifest);
        request.Headers.Accept.ParseAdd(MediaTypes.DockerManifestList);

        using var response = await Http.SendAsync(request);

        var message = await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
        Assert.Contains(MediaTypes.OciManifest, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Get_AcceptIncludingStoredType_Returns200(bool repeatedHeaders)
    {
        var repo = TestData.Repo();
        var image = await Cluster.PushImageAsync(repo, "v1", MediaTypes.OciManifest);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repo}/manifests/v1");
        if (repeatedHeaders)
        {
            request.Headers.TryAddWithoutValidation("Accept", MediaTypes.DockerManifest);
            request.Headers.TryAddWithoutValidation("Accept", MediaTypes.OciManifest + ";q=0.9");
        }
        else
        {
            request.Headers.TryAddWithoutValidation("Accept", $"{MediaTypes.DockerManifest}, {MediaTypes.OciIndex}, {MediaTypes.OciManifest}");
        }

        using var response = await Http.SendAsync(request);

        await RegistryAssert.StatusAsync(response, HttpStatusCode.OK);
        Assert.Equal(image.Manifest, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_BytesInOriginCorrupted_Returns503AndServesNothing()
    {
        var repo = TestData.Repo();
        var image = await Cluster.PushImageAsync(repo, "v1");
        var file = Directory.GetFiles(Cluster.OriginDataDir, "data", SearchOption.AllDirectories)
            .Single(f => Path.GetFileName(Path.GetDirectoryName(f)) == image.Digest.Hex);
        var corrupt = (byte[])image.Manifest.Clone();
        corrupt[^2] ^= 0x20;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.WriteAllBytes(file, corrupt);

        using var response = await Http.GetAsync($"/v2/{repo}/manifests/v1");

        var message = await RegistryAssert.ErrorAsync(response, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        Assert.Contains(image.Digest.ToString(), message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_ByDigest_Returns202AndRemovesManifestAndItsTags()
    {
        var repo = TestData.Repo();
        var image = await Cluster.PushImageAsync(repo, "v1");
        await Cluster.PushManifestAsync(repo, "stable", image.Manifest, image.MediaType);
        var keep = await Cluster.PushImageAsync(repo, "keep");

        using var delete = await Http.DeleteAsync($"/v2/{repo}/manifests/{image.Digest}");

        await RegistryAssert.StatusAsync(delete, HttpStatusCode.Accepted);
        await AssertManifestAbsentAsync(repo, image.Digest.ToString());
        await AssertManifestAbsentAsync(repo, "v1");
        await AssertManifestAbsentAsync(repo, "stable");
        using var blob = await Http.GetAsync($"/v2/{repo}/blobs/{image.Digest}");
        await RegistryAssert.ErrorAsync(blob, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UNKNOWN);
        using var kept = await Http.GetAsync($"/v2/{repo}/manifests/keep");
        Assert.Equal(keep.Manifest, await kept.Content.ReadAsByteArrayAsync());
        using var again = await Http.DeleteAsync($"/v2/{repo}/manifests/{image.Digest}");
        await RegistryAssert.ErrorAsync(again, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
    }

    [Fact]
    public async Task Delete_ByTag_Returns202AndKeepsManifest()
    {
        var repo = TestData.Repo();
        var image = await Cluster.PushImageAsync(repo, "v1");

        using var delete = await Http.DeleteAsync($"/v2/{repo}/manifests/v1");

        await RegistryAssert.StatusAsync(delete, HttpStatusCode.Accepted);
        await AssertManifestAbsentAsync(repo, "v1");
        using var byDigest = await Http.GetAsync($"/v2/{repo}/manifests/{image.Digest}");
        Assert.Equal(image.Manifest, await byDigest.Content.ReadAsByteArrayAsync());
        using var again = await Http.DeleteAsync($"/v2/{repo}/manifests/v1");
        await RegistryAssert.ErrorAsync(again, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
    }

    private async Task AssertManifestAbsentAsync(string repo, string reference)
    {
        using var get = await Http.GetAsync($"/v2/{repo}/manifests/{reference}");
        await RegistryAssert.ErrorAsync(get, HttpStatusCode.NotFound, RegistryErrorCode.MANIFEST_UNKNOWN);
    }
}
