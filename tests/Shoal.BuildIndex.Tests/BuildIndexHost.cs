using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Hosting;

namespace Shoal.BuildIndex.Tests;

/// <summary>A real build-index on port 0 over a data directory inside a temp directory, restartable on the same data.</summary>
internal sealed class BuildIndexHost : IAsyncDisposable
{
    private readonly TempDir _dir;
    private WebApplication _app;

    private BuildIndexHost(TempDir dir, WebApplication app)
    {
        _dir = dir;
        _app = app;
        Http = new HttpClient { BaseAddress = app.BaseAddress() };
        Client = new BuildIndexClient(Http, app.BaseAddress());
    }

    /// <summary>The temp directory; the data directory is its only child.</summary>
    public string Root => _dir.Path;

    public string DataDir => _dir.Sub("data");

    public HttpClient Http { get; private set; }

    public BuildIndexClient Client { get; private set; }

    public static async Task<BuildIndexHost> StartAsync()
    {
        var dir = new TempDir();
        var app = await StartAppAsync(dir.Sub("data"));
        return new BuildIndexHost(dir, app);
    }

    /// <summary>Stops the host and starts a new one on the same data directory.</summary>
    public async Task RestartAsync()
    {
        await _app.DisposeAsync();
        Http.Dispose();
        _app = await StartAppAsync(DataDir);
        Http = new HttpClient { BaseAddress = _app.BaseAddress() };
        Client = new BuildIndexClient(Http, _app.BaseAddress());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Http.Dispose();
        _dir.Dispose();
    }

    public static Digest DigestOf(string text) => Digest.Compute(System.Text.Encoding.UTF8.GetBytes(text));

    private static async Task<WebApplication> StartAppAsync(string dataDir)
    {
        var app = BuildIndexServer.Build(
            new BuildIndexOptions { DataDir = dataDir, Listen = { Port = 0 } },
            builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        return app;
    }
}
