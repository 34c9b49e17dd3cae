using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.Hosting;

namespace Shoal.Tracker.Tests;

/// <summary>
/// A stand-in origin for the tracker's metainfo path. Tracker tests cannot reference Shoal.Origin
/// (services only know each other through the typed clients), so this minimal Kestrel app on port 0
/// serves <c>GET /v1/blobs/{digest}/metainfo</c> — the one origin call the tracker makes — with
/// metainfo computed by Shoal.Core's <see cref="BlobHasher"/> over the blobs it is given, and 404
/// for others. It counts requests, remembers the last namespace, can hold answers behind a gate,
/// answer 202 (fetching) and answer garbage.
/// </summary>
internal sealed class FakeOrigin : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Digest, MetaInfo> _blobs = new();
    private readonly ConcurrentDictionary<Digest, bool> _garbage = new();
    private readonly ConcurrentDictionary<Digest, bool> _pending = new();
    private readonly WebApplication _app;
    private int _requests;

    private FakeOrigin(WebApplication app) => _app = app;

    public Uri BaseAddress => _app.BaseAddress();

    public int Requests => Volatile.Read(ref _requests);

    public string? LastNamespace { get; private set; }

    /// <summary>When set, metainfo answers wait for it.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public static async Task<FakeOrigin> StartAsync()
    {
        var builder = ServiceHost.CreateBuilder("fake-origin", new ListenOptions { Port = 0 }, LogLevel.Warning);
        var app = builder.Build();
        var origin = new FakeOrigin(app);
        app.MapGet("/v1/blobs/{digest}/metainfo", origin.MetaInfoAsync);
        await app.StartAsync();
        return origin;
    }

    public async Task<MetaInfo> AddAsync(byte[] content)
    {
        var info = await BlobHasher.ComputeAsync(new MemoryStream(content), content.Length, CancellationToken.None);
        _blobs[info.Digest] = info;
        return info;
    }

    public void AnswerGarbageFor(Digest digest) => _garbage[digest] = true;

    /// <summary>Answers 202 Accepted (Retry-After: 2) for <paramref name="digest"/>, as an origin fetching it from its backend does, until <see cref="Fetched"/>.</summary>
    public void Fetching(Digest digest) => _pending[digest] = true;

    public void Fetched(Digest digest) => _pending.TryRemove(digest, out _);

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task<IResult> MetaInfoAsync(string digest, HttpRequest request, HttpResponse response)
    {
        Interlocked.Increment(ref _requests);
        LastNamespace = request.Query["namespace"];
        if (Gate is { } gate)
        {
            await gate.Task;
        }
        var parsed = Digest.Parse(digest);
        if (_pending.ContainsKey(parsed))
        {
            response.Headers.RetryAfter = "2";
            return Results.StatusCode(StatusCodes.Status202Accepted);
        }
        if (_garbage.ContainsKey(parsed))
        {
            return Results.Text("{\"digest\":\"not metainfo\"}", "application/json");
        }
        return _blobs.TryGetValue(parsed, out var info)
            ? Results.Bytes(info.ToJson(), "application/json")
            : Results.NotFound();
    }
}
