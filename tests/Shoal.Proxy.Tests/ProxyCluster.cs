using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shoal.BuildIndex;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Core.Store;
using Shoal.Hosting;
using Shoal.Origin;
using Shoal.TestKit;

namespace Shoal.Proxy.Tests;

/// <summary>A real build-index, origin and proxy on loopback ports, each with its own temp data directory.</summary>
internal sealed class ProxyCluster : IAsyncDisposable
{
    private readonly TempDirectory _dir;

    private ProxyCluster(TempDirectory dir, WebApplication buildIndex, WebApplication origin, WebApplication proxy, ProxyOptions options)
    {
        _dir = dir;
        BuildIndexApp = buildIndex;
        OriginApp = origin;
        ProxyApp = proxy;
        Options = options;
        Http = new HttpClient { BaseAddress = proxy.BaseAddress(), Timeout = TimeSpan.FromSeconds(60) };
        Backend = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        BuildIndex = new BuildIndexClient(Backend, buildIndex.BaseAddress());
        Origin = new OriginClient(Backend, origin.BaseAddress());
    }

    public WebApplication BuildIndexApp { get; }

    public WebApplication OriginApp { get; }

    public WebApplication ProxyApp { get; }

    public ProxyOptions Options { get; }

    /// <summary>A client of the proxy (BaseAddress set).</summary>
    public HttpClient Http { get; }

    /// <summary>Direct access to build-index, to check what the proxy recorded.</summary>
    public BuildIndexClient BuildIndex { get; }

    /// <summary>Direct access to the origin, to check what the proxy stored.</summary>
    public OriginClient Origin { get; }

    private HttpClient Backend { get; }

    /// <summary>The origin's data directory.</summary>
    public string OriginDataDir => Path.Combine(_dir.Path, "origin");

    /// <summary>Upload sessions of <paramref name="repository"/> currently in the proxy's data directory.</summary>
    public string[] ProxySessions(string repository)
    {
        var uploads = Path.Combine(Options.DataDir, "uploads");
        return Directory.Exists(uploads)
            ? Directory.GetDirectories(uploads).Where(d => File.ReadAllText(Path.Combine(d, "session.json")).Contains($"\"{repository}\"", StringComparison.Ordinal)).ToArray()
            : [];
    }

    public static async Task<ProxyCluster> StartAsync(Action<ProxyOptions>? configureOptions = null, Action<WebApplicationBuilder>? configureProxy = null,
        Action<OriginOptions>? configureOrigin = null)
    {
        var dir = new TempDirectory("shoal-proxy");
        var started = new List<WebApplication>();
        try
        {
            var buildIndexOptions = new BuildIndexOptions { DataDir = Path.Combine(dir.Path, "build-index") };
            buildIndexOptions.Listen.Port = 0;
            var buildIndex = BuildIndexServer.Build(buildIndexOptions, Quiet);
            await buildIndex.StartAsync();
            started.Add(buildIndex);

            var originOptions = new OriginOptions { DataDir = Path.Combine(dir.Path, "origin") };
            originOptions.Listen.Port = 0;
            configureOrigin?.Invoke(originOptions);
            var origin = OriginServer.Build(originOptions, Quiet);
            await origin.StartAsync();
            started.Add(origin);

            var options = new ProxyOptions
            {
                DataDir = Path.Combine(dir.Path, "proxy"),
                Origins = [origin.BaseAddress().AbsoluteUri],
                BuildIndex = buildIndex.BaseAddress().AbsoluteUri,
            };
            options.Listen.Port = 0;
            configureOptions?.Invoke(options);
            var proxy = ProxyServer.Build(options, builder =>
            {
                Quiet(builder);
                configureProxy?.Invoke(builder);
            });
            await proxy.StartAsync();
            started.Add(proxy);
            return new ProxyCluster(dir, buildIndex, origin, proxy, options);
        }
        catch
        {
            foreach (var app in started)
            {
                await app.DisposeAsync();
            }
            dir.Dispose();
            throw;
        }
    }

    internal static void Quiet(WebApplicationBuilder builder) => builder.Logging.SetMinimumLevel(LogLevel.Warning);

    public T ProxyService<T>() where T : notnull => ProxyApp.Services.GetRequiredService<T>();

    // ---- registry client helpers ----

    /// <summary>Pushes a blob in one request (<c>POST ?digest=</c>) and asserts 201.</summary>
    public async Task<Digest> PushBlobAsync(string repository, byte[] data)
    {
        var digest = Digest.Compute(data);
        using var response = await PostBlobAsync(repository, digest.ToString(), data);
        await RegistryAssert.StatusAsync(response, System.Net.HttpStatusCode.Created);
        return digest;
    }

    public Task<HttpResponseMessage> PostBlobAsync(string repository, string digest, byte[] data)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={Uri.EscapeDataString(digest)}", content);
    }

    /// <summary>Starts an upload session; returns its Location.</summary>
    public async Task<string> StartUploadAsync(string repository)
    {
        using var response = await Http.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        await RegistryAssert.StatusAsync(response, System.Net.HttpStatusCode.Accepted);
        return response.Headers.Location!.OriginalString;
    }

    public Task<HttpResponseMessage> PatchAsync(string location, byte[] chunk, string? contentRange = null)
    {
        var content = new ByteArrayContent(chunk);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (contentRange is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Range", contentRange);
        }
        return Http.SendAsync(new HttpRequestMessage(HttpMethod.Patch, location) { Content = content });
    }

    public Task<HttpResponseMessage> CompleteAsync(string location, string digest, byte[]? lastChunk = null)
    {
        var separator = location.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        HttpContent? content = lastChunk is null ? null : new ByteArrayContent(lastChunk);
        return Http.PutAsync($"{location}{separator}digest={Uri.EscapeDataString(digest)}", content);
    }

    /// <summary>Pushes a manifest and asserts 201; returns its digest.</summary>
    public async Task<Digest> PushManifestAsync(string repository, string reference, byte[] manifest, string mediaType)
    {
        using var response = await PutManifestAsync(repository, reference, manifest, mediaType);
        await RegistryAssert.StatusAsync(response, System.Net.HttpStatusCode.Created);
        return Digest.Compute(manifest);
    }

    public Task<HttpResponseMessage> PutManifestAsync(string repository, string reference, byte[] manifest, string? mediaType)
    {
        var content = new ByteArrayContent(manifest);
        if (mediaType is not null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        }
        return Http.PutAsync($"/v2/{repository}/manifests/{reference}", content);
    }

    /// <summary>Pushes a config and <paramref name="layers"/> random layers, then an image manifest of <paramref name="mediaType"/> under <paramref name="reference"/>.</summary>
    public async Task<TestImage> PushImageAsync(string repository, string reference, string mediaType = MediaTypes.OciManifest, int layers = 2)
    {
        var config = TestData.Config();
        var configDigest = await PushBlobAsync(repository, config);
        var layerBlobs = new List<(Digest, long)>();
        for (var i = 0; i < layers; i++)
        {
            var layer = TestData.RandomBytes(1000 + i);
            layerBlobs.Add((await PushBlobAsync(repository, layer), layer.Length));
        }
        var manifest = TestData.ImageManifest(mediaType, (configDigest, config.Length), layerBlobs);
        var digest = await PushManifestAsync(repository, reference, manifest, mediaType);
        return new TestImage(digest, manifest, mediaType);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Backend.Dispose();
        foreach (var app in new[] { ProxyApp, OriginApp, BuildIndexApp })
        {
            try
            {
                await app.StopAsync();
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
            }
            await app.DisposeAsync();
        }
        _dir.Dispose();
    }
}
