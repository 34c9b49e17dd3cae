using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Hosting;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>
/// A minimal upstream registry on a loopback port: serves the manifests it was given under
/// <c>/v2/&lt;repo&gt;/manifests/&lt;tag|digest&gt;</c>, optionally only to one Authorization value,
/// and records every request it saw.
/// </summary>
internal sealed class FakeUpstream : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string MediaType)> _manifests = new();
    private readonly WebApplication _app;

    private FakeUpstream(WebApplication app) => _app = app;

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress => _app.BaseAddress();

    /// <summary>When set, requests without exactly this Authorization header get 401.</summary>
    public string? RequiredAuthorization { get; set; }

    /// <summary>
    /// When set (user, password), the upstream behaves like a token-auth registry: manifest requests need
    /// <c>Bearer issued-token</c>, a 401 carries a Bearer challenge, and <c>GET /token</c> issues the token to those credentials.
    /// </summary>
    public (string User, string Password)? TokenAuth { get; set; }

    /// <summary>When set, manifest requests wait this long before answering.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Every request as "METHOD path" with its Authorization header.</summary>
    public ConcurrentQueue<(string Request, string? Authorization)> Requests { get; } = new();

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = ServiceHost.CreateBuilder("fake-upstream", new ListenOptions { Port = 0 });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var upstream = new FakeUpstream(app);
        app.Run(upstream.HandleAsync);
        await app.StartAsync();
        return upstream;
    }

    /// <summary>Serves <paramref name="manifest"/> by digest and, when given, by <paramref name="tag"/>.</summary>
    public Digest Add(string repository, byte[] manifest, string mediaType, string? tag = null)
    {
        var digest = Digest.Compute(manifest);
        _manifests[$"{repository}/manifests/{digest}"] = (manifest, mediaType);
        if (tag is not null)
        {
            _manifests[$"{repository}/manifests/{tag}"] = (manifest, mediaType);
        }
        return digest;
    }

    /// <summary>The manifest URL of <paramref name="repository"/>:<paramref name="reference"/>.</summary>
    public string ManifestUrl(string repository, string reference) => new Uri(BaseAddress, $"v2/{repository}/manifests/{reference}").AbsoluteUri;

    private async Task HandleAsync(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        Requests.Enqueue(($"{context.Request.Method} {context.Request.Path}", authorization.Length == 0 ? null : authorization));
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, context.RequestAborted);
        }
        if (TokenAuth is { } credentials)
        {
            if (context.Request.Path == "/token")
            {
                var expected = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{credentials.User}:{credentials.Password}"));
                if (authorization != expected || context.Request.Query["service"] != "fake" || context.Request.Query["scope"].ToString().Length == 0)
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return;
                }
                await context.Response.WriteAsJsonAsync(new { token = "issued-token" });
                return;
            }
            if (authorization != "Bearer issued-token")
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{BaseAddress}token\",service=\"fake\",scope=\"repository:x:pull\"";
                return;
            }
        }
        if (RequiredAuthorization is not null && authorization != RequiredAuthorization)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await context.Response.WriteAsync("""{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}""");
            return;
        }
        var path = context.Request.Path.Value ?? string.Empty;
        if (path.StartsWith("/v2/", StringComparison.Ordinal) && _manifests.TryGetValue(path[4..], out var manifest))
        {
            context.Response.ContentType = manifest.MediaType;
            context.Response.Headers["Docker-Content-Digest"] = Digest.Compute(manifest.Bytes).ToString();
            await context.Response.Body.WriteAsync(manifest.Bytes);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        await context.Response.WriteAsync("""{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}""");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
