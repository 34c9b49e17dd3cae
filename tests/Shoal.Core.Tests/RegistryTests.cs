using System.Text;
using Shoal.Core.Registry;

namespace Shoal.Core.Tests;

public sealed class RegistryTests
{
    [Theory]
    [InlineData("library/nginx")]
    [InlineData("a")]
    [InlineData("a-b/c_d/e.f/g__h")]
    [InlineData("foo/manifests/bar")]
    [InlineData("a--b")]
    public void RepositoryName_Valid(string name)
    {
        Assert.True(RepositoryName.IsValid(name, out var error), error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Library/nginx")]
    [InlineData("../etc")]
    [InlineData("a/../b")]
    [InlineData("a//b")]
    [InlineData("/a")]
    [InlineData("a/")]
    [InlineData("a..b")]
    [InlineData("-a")]
    [InlineData("a___b")]
    public void RepositoryName_Invalid(string name)
    {
        Assert.False(RepositoryName.IsValid(name, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void RepositoryName_TooLong_Invalid()
    {
        Assert.True(RepositoryName.IsValid(new string('a', 255), out _));
        Assert.False(RepositoryName.IsValid(new string('a', 256), out var error));
        Assert.Contains("255", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("latest", true)]
    [InlineData("v1.2.3-rc_1", true)]
    [InlineData("_x", true)]
    [InlineData(".x", false)]
    [InlineData("-x", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    public void Tag_Validation(string tag, bool valid)
    {
        Assert.Equal(valid, RepositoryName.IsValidTag(tag));
        Assert.False(RepositoryName.IsValidTag(new string('a', 129)));
    }

    [Theory]
    [InlineData("/v2/", RegistryRouteKind.Base, "", null)]
    [InlineData("/v2", RegistryRouteKind.Base, "", null)]
    [InlineData("/v2/_catalog", RegistryRouteKind.Catalog, "", null)]
    [InlineData("/v2/library/nginx/tags/list", RegistryRouteKind.TagsList, "library/nginx", null)]
    [InlineData("/v2/a/b/c/manifests/latest", RegistryRouteKind.Manifest, "a/b/c", "latest")]
    [InlineData("/v2/foo/manifests/bar/manifests/v1", RegistryRouteKind.Manifest, "foo/manifests/bar", "v1")]
    [InlineData("/v2/a/blobs/sha256:abc", RegistryRouteKind.Blob, "a", "sha256:abc")]
    [InlineData("/v2/a/blobs/uploads/", RegistryRouteKind.UploadStart, "a", null)]
    [InlineData("/v2/a/blobs/uploads", RegistryRouteKind.UploadStart, "a", null)]
    [InlineData("/v2/a/b/blobs/uploads/0123", RegistryRouteKind.Upload, "a/b", "0123")]
    [InlineData("/v2/a/referrers/sha256:abc", RegistryRouteKind.Referrers, "a", "sha256:abc")]
    [InlineData("/v2/a/unknown/x", RegistryRouteKind.None, "", null)]
    [InlineData("/v3/a/manifests/x", RegistryRouteKind.None, "", null)]
    [InlineData("/v2/manifests/x", RegistryRouteKind.None, "", null)]
    [InlineData("/v2x", RegistryRouteKind.None, "", null)]
    public void RegistryRoute_Parse(string path, RegistryRouteKind kind, string name, string? reference)
    {
        var route = RegistryRoute.Parse(path);
        Assert.Equal(kind, route.Kind);
        Assert.Equal(name, route.Name);
        Assert.Equal(reference, route.Reference);
    }

    private const string Config = "sha256:9395f240c7835825a026485450d2213212cc8947384b04e9cde223e9c81d4196";
    private const string Layer = "sha256:12ef562ec2e5d9656327faf729f67c339e988b74db6e5f745b3e3fa2f3b6a00c";

    [Fact]
    public void Manifest_OciImage_ParsesDescriptors()
    {
        var json = $$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Config}}","size":449},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{Layer}}","size":180}]}
            """;
        Assert.True(ManifestDocument.TryParse(Encoding.UTF8.GetBytes(json), "application/vnd.oci.image.manifest.v1+json", out var m, out var error), error);
        Assert.Equal(MediaTypes.OciManifest, m!.MediaType);
        Assert.Equal(Config, m.Config!.Digest.ToString());
        Assert.Equal([Config, Layer], m.Blobs.Select(b => b.Digest.ToString()));
        Assert.False(m.IsIndex);
    }

    [Fact]
    public void Manifest_IndexWithoutMediaType_InferredAndPlatformsRead()
    {
        var json = $$$"""
            {"schemaVersion":2,"manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{Config}}}","size":10,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{Layer}}}","size":10,"platform":{"os":"linux","architecture":"amd64"}}]}
            """;
        Assert.True(ManifestDocument.TryParse(Encoding.UTF8.GetBytes(json), null, out var m, out var error), error);
        Assert.Equal(MediaTypes.OciIndex, m!.MediaType);
        Assert.True(m.IsIndex);
        Assert.Equal("linux/arm64/v8", m.Manifests[0].Platform!.ToString());
        Assert.Equal("linux/amd64", m.Manifests[1].Platform!.ToString());
    }

    [Fact]
    public void Manifest_DeclaredTypeUsedWhenDocumentHasNone()
    {
        var json = $$"""
            {"schemaVersion":2,"config":{"digest":"{{Config}}","size":1},"layers":[]}
            """;
        Assert.True(ManifestDocument.TryParse(Encoding.UTF8.GetBytes(json), MediaTypes.DockerManifest + "; charset=utf-8", out var m, out _));
        Assert.Equal(MediaTypes.DockerManifest, m!.MediaType);
    }

    [Theory]
    [InlineData("not json", "valid JSON")]
    [InlineData("[]", "object")]
    [InlineData("{\"schemaVersion\":1,\"fsLayers\":[]}", "schema 1")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/x-unknown\"}", "unsupported")]
    [InlineData("{\"schemaVersion\":2}", "unsupported")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}", "config")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}", "manifests")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"digest\":\"sha256:bad\",\"size\":1}}", "digest")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"digest\":\"sha256:9395f240c7835825a026485450d2213212cc8947384b04e9cde223e9c81d4196\",\"size\":-1}}", "size")]
    public void Manifest_Invalid_Explains(string json, string reason)
    {
        Assert.False(ManifestDocument.TryParse(Encoding.UTF8.GetBytes(json), null, out _, out var error));
        Assert.Contains(reason, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Manifest_ContradictsDeclaredType_IsInvalid()
    {
        var json = $$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"{{Config}}","size":1},"layers":[]}
            """;
        Assert.False(ManifestDocument.TryParse(Encoding.UTF8.GetBytes(json), MediaTypes.DockerManifest, out _, out var error));
        Assert.Contains("sent as", error, StringComparison.Ordinal);
    }
}
