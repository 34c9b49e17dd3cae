using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shoal.Clients.Tracker;
using Shoal.Core;
using Shoal.Hosting;

namespace Shoal.Tracker.Tests;

/// <summary>A real tracker on port 0, optionally on fake time, with a client and helpers to build peers.</summary>
internal sealed class TrackerHost : IAsyncDisposable
{
    /// <summary>An origin URL nothing listens on, for tests that never ask for metainfo.</summary>
    public const string UnusedOrigin = "http://127.0.0.1:9/";

    private readonly WebApplication _app;

    private TrackerHost(WebApplication app, FakeTimeProvider? time)
    {
        _app = app;
        Time = time;
        Http = new HttpClient { BaseAddress = app.BaseAddress() };
        Client = new TrackerClient(Http, app.BaseAddress());
    }

    public FakeTimeProvider? Time { get; }

    public HttpClient Http { get; }

    public TrackerClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TrackerHost> StartAsync(Action<TrackerOptions>? tweak = null, FakeTimeProvider? time = null)
    {
        var options = new TrackerOptions { Listen = { Port = 0 }, Origins = [UnusedOrigin] };
        tweak?.Invoke(options);
        var app = TrackerServer.Build(options, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            if (time is not null)
            {
                builder.Services.AddSingleton<TimeProvider>(time);
            }
        });
        await app.StartAsync();
        return new TrackerHost(app, time);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Http.Dispose();
    }

    public static string NewInfoHash() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static Digest SomeDigest { get; } = Digest.Compute("blob"u8);

    /// <summary>Peer number <paramref name="n"/>: a distinct id and port on 127.0.0.1.</summary>
    public static PeerInfo Peer(int n, bool complete = false, bool origin = false)
        => new(n.ToString("x40", System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1", 20000 + n, origin, complete);

    public Task<AnnounceResponse> AnnounceAsync(string infoHash, PeerInfo peer)
        => Client.AnnounceAsync(infoHash, SomeDigest, "library/app", peer, CancellationToken.None);
}
