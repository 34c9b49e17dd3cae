using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Agent.Internal;
using Shoal.Core.Store;
using Shoal.Hosting;

namespace Shoal.Agent.Tests;

/// <summary>A started agent, the client that talks to it, and its internals for assertions.</summary>
internal sealed class AgentHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AgentHost(WebApplication app, AgentOptions options)
    {
        _app = app;
        Options = options;
        Client = new HttpClient { BaseAddress = app.BaseAddress() };
    }

    public AgentOptions Options { get; }

    public HttpClient Client { get; }

    public AgentStats Stats => _app.Services.GetRequiredService<AgentStats>();

    public BlobStore Store => _app.Services.GetRequiredService<BlobCache>().Store;

    public IServiceProvider Services => _app.Services;

    public static async Task<AgentHost> StartAsync(
        string dataDir, Uri buildIndex, IEnumerable<Uri> origins, Action<AgentOptions>? tweak = null, Action<WebApplicationBuilder>? configure = null)
    {
        var options = new AgentOptions
        {
            DataDir = dataDir,
            BuildIndex = buildIndex.AbsoluteUri,
            Origins = origins.Select(o => o.AbsoluteUri).ToList(),
            Listen = { Port = 0 },
        };
        tweak?.Invoke(options);
        var app = AgentServer.Build(options, builder =>
        {
            TestCluster.Quiet(builder);
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        return new AgentHost(app, options);
    }

    /// <summary>Files under the agent's data directory (blobs and in-progress writes).</summary>
    public IEnumerable<string> Files()
        => Directory.Exists(Options.DataDir) ? Directory.EnumerateFiles(Options.DataDir, "*", SearchOption.AllDirectories) : [];

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}
