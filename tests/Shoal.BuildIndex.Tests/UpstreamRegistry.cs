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
    public const string Htpasswd = "htpasswd";

    private readonly TempDir _directory;
    private readonly ExternalProcess _process;

    private UpstreamRegistry(TempDir directory, ExternalProcess process, int port, bool basicAuth)
    {
        _directory = directory;
        _process = process;
        Url = new Uri($"http://127.0.0.1:{port}/");
        if (basicAuth)
        {
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        }
    }

    public Uri Url { get; }

    /// <summary>A client that pushes (with the credentials when the registry wants them).</summary>
    public HttpClient Http { get; } = new();

    public static async Task<UpstreamRegistry> StartAsync(bool basicAuth = false)
    {
        var program = ToolCheck.Require(ToolCheck.DockerRegistry);
        var directory = new TempDir();
        try
        {
            var auth = string.Empty;
            if (basicAuth)
            {
                var entry = (await ExternalProcess.RunAsync(ToolCheck.Require(Htpasswd), ["-Bbn", User, Password], TimeSpan.FromSeconds(30))).EnsureSuccess().StandardOutput.Trim();
                await File.WriteAllTextAsync(directory.Sub("htpasswd"), entry + "\n");
                auth = $"auth:\n  htpasswd:\n    realm: shoal-test\n    path: {directory.Sub("htpasswd")}\n";
            }
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort.Next();
                var config = directory.Sub("config.yml");
                await File.WriteAllTextAsync(config, $"""
                    version: 0.1
                    log:
                      level: warn
                    storage:
                      filesystem:
                        rootdirectory: {directory.Sub("data")}
                    http:
                      addr: 127.0.0.1:{port}

                    """ + auth);
                var process = ExternalProcess.Start(program, ["serve", config], new Dictionary<string, string?> { ["OTEL_TRACES_EXPORTER"] = "none" });
                try
                {
                    await process.WaitForHttpAsync(new Uri($"http://127.0.0.1:{port}/v2/"), TimeSpan.FromSeconds(30),
                        status => status is HttpStatusCode.OK or HttpStatusCode.Unauthorized);
                    return new UpstreamRegistry(directory, process, port, basicAuth);
                }
                catch (InvalidOperationException) when (attempt < 3 && process.Output.Contains("address already in use", StringComparison.Ordinal))
                {
                    process.Dispose();
                }
                catch
                {
                    process.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            directory.Dispose();
            throw;
        }
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
        _process.Dispose();
        _directory.Dispose();
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
