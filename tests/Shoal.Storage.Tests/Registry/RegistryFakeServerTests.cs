using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Storage.Registry;

namespace Shoal.Storage.Tests.Registry;

/// <summary>
/// Behaviours the reference registry cannot show: redirects to a storage host, Link pagination,
/// registries that ignore Range.
/// </summary>
public sealed class RegistryFakeServerTests : IAsyncLifetime
{
    private const string BasicCredentials = "Basic c2hvYWw6cGFzcw=="; // shoal:pass
    private static readonly byte[] Blob = Encoding.ASCII.GetBytes("0123456789abcdefghijklmnopqrstuvwxyz");
    private static readonly Digest BlobDigest = Digest.Compute(Blob);

    private readonly ConcurrentQueue<string> _registryAuthorizations = new();
    private readonly ConcurrentQueue<string> _storageAuthorizations = new();
    private readonly ConcurrentQueue<string> _tokenQueries = new();
    private volatile string _acceptedToken = "t1";
    private int _tokensIssued;
    private WebApplication _registry = null!;
    private WebApplication _storage = null!;
    private Uri _registryUrl = null!;
    private Uri _storageUrl = null!;

    public async Task InitializeAsync()
    {
        (_storage, _storageUrl) = await StartAsync(app =>
        {
            app.MapMethods("/bucket/blob", ["GET", "HEAD"], (HttpContext context) =>
            {
                _storageAuthorizations.Enqueue(context.Request.Headers.Authorization.ToString());
                return Results.Bytes(Blob, "application/octet-stream", enableRangeProcessing: true);
            });
            app.MapGet("/token", (HttpContext context) =>
            {
                _tokenQueries.Enqueue(context.Request.QueryString.Value ?? "");
                var n = Interlocked.Increment(ref _tokensIssued);
                return Results.Json(new { access_token = "t" + n, expires_in = 3600 });
            });
        });
        (_registry, _registryUrl) = await StartAsync(app =>
        {
            app.Use(async (context, next) =>
            {
                if (context.Request.Path.StartsWithSegments("/v2/bearer"))
                {
                    if (context.Request.Headers.Authorization.ToString() != "Bearer " + _acceptedToken)
                    {
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{new Uri(_storageUrl, "/token")}\",service=\"fake-registry\",scope=\"repository:bearer/app:pull\"";
                        return;
                    }
                    context.Response.ContentLength = Blob.Length;
                    return;
                }
                var authorization = context.Request.Headers.Authorization.ToString();
                _registryAuthorizations.Enqueue(authorization);
                if (authorization != BasicCredentials)
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Basic realm=\"fake\"";
                    return;
                }
                await next(context);
            });
            app.MapMethods("/v2/redirect/app/blobs/{digest}", ["GET", "HEAD"], (string digest) =>
                digest == BlobDigest.ToString() ? Results.Redirect(new Uri(_storageUrl, "/bucket/blob?X-Signature=abc").ToString(), preserveMethod: true) : Results.NotFound());
            app.MapMethods("/v2/norange/app/blobs/{digest}", ["GET", "HEAD"], (string digest) =>
                digest == BlobDigest.ToString() ? Results.Bytes(Blob, "application/octet-stream") : Results.NotFound());
            app.MapGet("/v2/bad/app/manifests/{reference}", (string reference, HttpContext context) =>
            {
                var manifest = reference == "huge"
                    ? new byte[Shoal.Core.Registry.ManifestDocument.MaxSize + 1]
                    : Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}");
                context.Response.Headers["Docker-Content-Digest"] = Digest.Compute([1, 2, 3]).ToString();
                return Results.Bytes(manifest, "application/vnd.oci.image.index.v1+json");
            });
            app.MapGet("/v2/paged/app/tags/list", (HttpContext context) =>
            {
                string[] all = ["a", "b", "c", "d", "e"];
                var n = int.Parse(context.Request.Query["n"].FirstOrDefault() ?? "100", System.Globalization.CultureInfo.InvariantCulture);
                var last = context.Request.Query["last"].FirstOrDefault();
                var page = all.Where(t => last is null || string.CompareOrdinal(t, last) > 0).Take(n).ToArray();
                if (page.Length > 0 && page[^1] != all[^1])
                {
                    context.Response.Headers.Link = $"</v2/paged/app/tags/list?last={page[^1]}&n={n}>; rel=\"next\"";
                }
                return Results.Json(new { name = "paged/app", tags = page });
            });
        });
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _storage.DisposeAsync();
    }

    [Fact]
    public async Task OpenRead_RedirectToOtherHost_FollowedWithoutAuthorization()
    {
        using var backend = CreateBackend();
        var repo = backend.Bind("redirect/app");
        var name = BackendNames.ForBlob(BlobDigest);

        var stat = await repo.StatAsync(name, default);
        var whole = await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, 0, null, default));
        var slice = await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, 10, 5, default));

        Assert.Equal(Blob.Length, stat!.Size);
        Assert.Equal(Blob, whole);
        Assert.Equal(Blob[10..15], slice);
        Assert.Equal(3, _storageAuthorizations.Count);
        Assert.All(_storageAuthorizations, Assert.Empty);
        Assert.Contains(BasicCredentials, _registryAuthorizations);
    }

    [Fact]
    public async Task OpenRead_RegistryIgnoresRange_SkipsToOffset()
    {
        using var backend = CreateBackend();
        var repo = backend.Bind("norange/app");
        var name = BackendNames.ForBlob(BlobDigest);

        Assert.Equal(Blob[7..12], await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, 7, 5, default)));
        Assert.Equal(Blob[30..], await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, 30, null, default)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => repo.OpenReadAsync(name, Blob.Length + 1, null, default));
    }

    [Fact]
    public async Task ListTags_LinkHeader_Paginates()
    {
        using var backend = CreateBackend();

        var first = await backend.Tags.ListTagsAsync("paged/app", n: 2);
        var second = await backend.Tags.ListTagsAsync("paged/app", n: 2, last: first.Last);
        var third = await backend.Tags.ListTagsAsync("paged/app", n: 2, last: second.Last);
        var all = new List<string>();
        await foreach (var tag in backend.Tags.ListAllTagsAsync("paged/app", pageSize: 2))
        {
            all.Add(tag);
        }

        Assert.Equal(["a", "b"], first.Tags);
        Assert.Equal("b", first.Last);
        Assert.Equal(["c", "d"], second.Tags);
        Assert.Equal(["e"], third.Tags);
        Assert.Null(third.Last);
        Assert.Equal(["a", "b", "c", "d", "e"], all);
    }

    [Fact]
    public async Task Bearer_CachedTokenRejected_FetchesAFreshOneOnce()
    {
        using var backend = new RegistryBackend(new RegistryBackendOptions { Address = _registryUrl.ToString() });
        var repo = backend.Bind("bearer/app");
        var name = BackendNames.ForBlob(BlobDigest);

        Assert.Equal(Blob.Length, (await repo.StatAsync(name, default))!.Size);
        Assert.Equal(Blob.Length, (await repo.StatAsync(name, default))!.Size);
        Assert.Equal(1, Volatile.Read(ref _tokensIssued));
        _acceptedToken = "t2"; // The registry stops accepting the cached token.
        Assert.Equal(Blob.Length, (await repo.StatAsync(name, default))!.Size);

        Assert.Equal(2, Volatile.Read(ref _tokensIssued));
        Assert.All(_tokenQueries, q => Assert.Equal("?service=fake-registry&scope=repository%3Abearer%2Fapp%3Apull", q));
        _acceptedToken = "never";
        var error = await Assert.ThrowsAsync<RegistryException>(() => repo.StatAsync(name, default));
        Assert.Contains("rejected a token", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, Volatile.Read(ref _tokensIssued));
    }

    [Fact]
    public async Task GetManifest_DigestMismatchOrTooLarge_Rejected()
    {
        using var backend = CreateBackend();

        var mismatch = await Assert.ThrowsAsync<DigestMismatchException>(() => backend.Tags.GetManifestAsync("bad/app", "v1"));
        Assert.Equal(Digest.Compute([1, 2, 3]), mismatch.Expected);
        await Assert.ThrowsAsync<InvalidDataException>(() => backend.Tags.GetManifestAsync("bad/app", "huge"));
        await Assert.ThrowsAsync<DigestMismatchException>(() => backend.Tags.GetManifestAsync("bad/app", Digest.Compute([4]).ToString()));
    }

    private RegistryBackend CreateBackend()
        => new(new RegistryBackendOptions { Address = _registryUrl.ToString(), Username = "shoal", Password = "pass" });

    private static async Task<(WebApplication App, Uri Url)> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }
}
