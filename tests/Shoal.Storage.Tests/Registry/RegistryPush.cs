using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Storage.Tests.Registry;

/// <summary>Pushes blobs and manifests to an anonymous registry with a plain HttpClient (independent of the code under test).</summary>
internal static class RegistryPush
{
    public static async Task<Digest> PushBlobAsync(HttpClient http, Uri registry, string repository, byte[] content)
    {
        var digest = Digest.Compute(content);
        using var start = await http.PostAsync(new Uri(registry, $"v2/{repository}/blobs/uploads/"), null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = new Uri(new Uri(registry, $"v2/{repository}/blobs/uploads/"), start.Headers.Location!);
        var put = new UriBuilder(location);
        put.Query = (put.Query.TrimStart('?') is { Length: > 0 } q ? q + "&" : "") + "digest=" + Uri.EscapeDataString(digest.ToString());
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var done = await http.PutAsync(put.Uri, body);
        Assert.Equal(HttpStatusCode.Created, done.StatusCode);
        return digest;
    }

    /// <summary>Pushes a config and one layer and an OCI manifest under <paramref name="tag"/>; returns the manifest bytes.</summary>
    public static async Task<byte[]> PushImageAsync(HttpClient http, Uri registry, string repository, string tag, byte[] layer)
    {
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var configDigest = await PushBlobAsync(http, registry, repository, config);
        var layerDigest = await PushBlobAsync(http, registry, repository, layer);
        var manifest = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciManifest + "\"," +
            "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest + "\",\"size\":" + config.Length + "}," +
            "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + layerDigest + "\",\"size\":" + layer.Length + "}]}");
        await PushManifestAsync(http, registry, repository, tag, manifest);
        return manifest;
    }

    public static async Task PushManifestAsync(HttpClient http, Uri registry, string repository, string tag, byte[] manifest)
    {
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var response = await http.PutAsync(new Uri(registry, $"v2/{repository}/manifests/{tag}"), content);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
