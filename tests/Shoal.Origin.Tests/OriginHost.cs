using Shoal.TestKit;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.Hosting;

namespace Shoal.Origin.Tests;

/// <summary>A real origin on a loopback port with its own temp data directory, and clients for it.</summary>
internal sealed class OriginHost : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private bool _stopped;
    private bool _handedOver;

    private OriginHost(TempDirectory dir, WebApplication app, OriginOptions options)
    {
        _dir = dir;
        App = app;
        Options = options;
        BaseAddress = app.BaseAddress();
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Client = new OriginClient(Http, BaseAddress);
    }

    public WebApplication App { get; }

    public OriginOptions Options { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public OriginClient Client { get; }

    public string DataDir => Options.DataDir;

    public BlobStore Store => App.Services.GetRequiredService<BlobStore>();

    /// <summary>True once the blob is cached and written back (or needs no write-back).</summary>
    public bool IsPersisted(Digest digest) => Store.Stat(digest)?.Metadata.Persisted == true;

    /// <summary>Routes every namespace to <paramref name="backend"/> (replacing what the options configure), written back or written through.</summary>
    public static void UseBackend(WebApplicationBuilder builder, Shoal.Storage.IBlobBackend backend, bool writeThrough = false)
        => builder.Services.AddSingleton(new Shoal.Storage.BackendRouter([(new System.Text.RegularExpressions.Regex(".*"), backend, writeThrough)]));

    /// <summary>Fast retries, for tests that make write-backs fail.</summary>
    public static void FastRetries(OriginOptions options)
    {
        options.WriteBack.RetryMinDelay = TimeSpan.FromMilliseconds(20);
        options.WriteBack.RetryMaxDelay = TimeSpan.FromMilliseconds(200);
    }

    /// <summary>Builds and starts an origin. <paramref name="configureOptions"/> gets options whose DataDir is already set.</summary>
    public static async Task<OriginHost> StartAsync(Action<OriginOptions>? configureOptions = null, Action<WebApplicationBuilder>? configure = null)
    {
        var dir = new TempDirectory();
        try
        {
            var options = new OriginOptions { DataDir = Path.Combine(dir.Path, "data") };
            options.Listen.Port = 0;
            configureOptions?.Invoke(options);
            var app = OriginServer.Build(options, builder =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
                configure?.Invoke(builder);
            });
            await app.StartAsync();
            return new OriginHost(dir, app, options);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>A port nothing listens on right now (for clusters, whose members must know each other's URLs up front).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static (Digest Digest, byte[] Data) RandomBlob(int length)
    {
        var data = RandomNumberGenerator.GetBytes(length);
        return (Digest.Compute(data), data);
    }

    /// <summary>Files left in the store's temp directory (should be none once writes are over).</summary>
    public string[] TempFiles() => Directory.GetFiles(Path.Combine(DataDir, "tmp"), "*", SearchOption.AllDirectories);

    /// <summary>Every file under the store's blob tree.</summary>
    public string[] BlobFiles() => Directory.GetFiles(Path.Combine(DataDir, "blobs"), "*", SearchOption.AllDirectories);

    public async Task<byte[]> GetBytesAsync(Digest digest)
    {
        await using var blob = await Client.OpenReadAsync(digest, null, null, CancellationToken.None);
        Assert.NotNull(blob);
        using var copy = new MemoryStream();
        await blob.Content.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or 20 seconds pass.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    /// <summary>Polls <paramref name="condition"/> until it holds or 20 seconds pass.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("timed out waiting until " + what);
            }
            await Task.Delay(10);
        }
    }

    /// <summary>Stops this origin and starts a new one on the same options and data directory (a new port unless fixed).</summary>
    public async Task<OriginHost> RestartAsync(Action<WebApplicationBuilder>? configure = null)
    {
        await StopAsync();
        _handedOver = true;
        var app = OriginServer.Build(Options, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        return new OriginHost(_dir, app, Options);
    }

    /// <summary>Stops the origin (as if killed), keeping its data directory until disposed.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (!_handedOver)
        {
            _dir.Dispose();
        }
    }
}
