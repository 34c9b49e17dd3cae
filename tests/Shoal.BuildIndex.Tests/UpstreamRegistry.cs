using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.TestKit;

namespace Shoal.BuildIndex.Tests;

/// <summary>
/// The real distribution registry (Debian's <c>docker-registry</c>) on a free loopback port,
/// anonymous or with htpasswd (bcrypt) basic authentication, with pushes done by a plain
/// HttpClient (independent of the code under test). Stopped by PID on dispose.
/// </summary>
internal sealed class UpstreamRegistry : IDisposable
{
    public const string User = "shoal";
    public const string Password = "upstream-pass";

    private readonly DockerRegistry _registry;

    private UpstreamRegistry(DockerRegistry registry, bool basicAuth)
    {
        _registry = registry;
        if (basicAuth)
        {
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        }
    }

    public Uri Url => _registry.Url;

    /// <summary>A client that pushes (with the credentials when the registry wants them).</summary>
    public HttpClient Http { get; } = new();

    public static async Task<UpstreamRegistry> StartAsync(bool basicAuth = false)
    {
        var registry = await DockerRegistry.StartAsync(deleteEnabled: false, configureAuth: basicAuth ? DockerRegistry.BasicAuth(User, Password) : null);
        return new UpstreamRegistry(registry, basicAuth);
    }

    /// <summary>Pushes a config, one layer of <paramref name="layerSeed"/>-random bytes and an OCI manifest under <paramref name="tag"/>; returns the manifest bytes.</summary>
    public async Task<byte[]> PushImageAsync(string repository, string tag, int layerSeed)
    {
        var layer = new byte[1000];
        new Random(layerSeed).NextBytes(layer);
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var configDigest = await PushBlobAsync(repository, config);
        var layerDigest = await PushBlobAsync(repository, layer);
        var manifest = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciManifest + "\"," +
            "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest + "\",\"size\":" + config.Length + "}," +
            "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + layerDigest + "\",\"size\":" + layer.Length + "}]}");
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var response = await Http.PutAsync(new Uri(Url, $"v2/{repository}/manifests/{tag}"), content);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return manifest;
    }

    public void Dispose()
    {
        Http.Dispose();
        _registry.Dispose();
    }

    private async Task<Digest> PushBlobAsync(string repository, byte[] content)
    {
        var digest = Digest.Compute(content);
        using var start = await Http.PostAsync(new Uri(Url, $"v2/{repository}/blobs/uploads/"), null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var put = new UriBuilder(new Uri(new Uri(Url, $"v2/{repository}/blobs/uploads/"), start.Headers.Location!));
        put.Query = (put.Query.TrimStart('?') is { Length: > 0 } q ? q + "&" : "") + "digest=" + Uri.EscapeDataString(digest.ToString());
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var done = await Http.PutAsync(put.Uri, body);
        Assert.Equal(HttpStatusCode.Created, done.StatusCode);
        return digest;
    }
}
