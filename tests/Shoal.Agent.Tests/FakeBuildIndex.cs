using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Hosting;

namespace Shoal.Agent.Tests;

/// <summary>
/// A tiny Kestrel app that speaks just enough of build-index's API for the agent (tag and manifest
/// reads, readiness) and can be told to fail with 500 or to report itself not ready.
/// </summary>
internal sealed class FakeBuildIndex : IAsyncDisposable
{
    private readonly Dictionary<string, Digest> _tags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ManifestRecord> _manifests = new(StringComparer.Ordinal);
    private readonly WebApplication _app;

    private FakeBuildIndex(WebApplication app) => _app = app;

    public bool Failing { get; set; }

    public bool Ready { get; set; } = true;

    public Uri BaseAddress => _app.BaseAddress();

    public static async Task<FakeBuildIndex> StartAsync()
    {
        var builder = ServiceHost.CreateBuilder("fake-build-index", new ListenOptions { Port = 0 }, Microsoft.Extensions.Logging.LogLevel.Warning);
        var app = builder.Build();
        var index = new FakeBuildIndex(app);
        app.MapGet("/readiness", () => index.Ready ? Results.Text("OK") : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/v1/repositories/{**path}", (string path) => index.Get(path));
        await app.StartAsync();
        return index;
    }

    public void Tag(string repository, string tag, Digest digest)
    {
        lock (_tags)
        {
            _tags[repository + ":" + tag] = digest;
        }
    }

    public void Manifest(string repository, Digest digest, string mediaType, long size)
    {
        lock (_manifests)
        {
            _manifests[repository + "@" + digest] = new ManifestRecord(mediaType, size);
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private IResult Get(string path)
    {
        if (Failing)
        {
            return Results.Problem("build-index is broken", statusCode: StatusCodes.Status500InternalServerError);
        }
        var tags = path.LastIndexOf("/tags/", StringComparison.Ordinal);
        if (tags > 0)
        {
            lock (_tags)
            {
                return _tags.TryGetValue(path[..tags] + ":" + path[(tags + 6)..], out var digest)
                    ? Results.Json(new TagRecord(digest.ToString()))
                    : Results.NotFound();
            }
        }
        var manifests = path.LastIndexOf("/manifests/", StringComparison.Ordinal);
        if (manifests > 0)
        {
            lock (_manifests)
            {
                return _manifests.TryGetValue(path[..manifests] + "@" + path[(manifests + 11)..], out var record)
                    ? Results.Json(record)
                    : Results.NotFound();
            }
        }
        return Results.NotFound();
    }
}
