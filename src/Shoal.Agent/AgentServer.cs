using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Shoal.Agent.Internal;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Clients.Tracker;
using Shoal.Core.Store;
using Shoal.Hosting;
using Shoal.Hosting.Eviction;
using Shoal.P2P.Engine;
using Shoal.P2P.Storage;

namespace Shoal.Agent;

/// <summary>
/// Builds an agent: the pull-only registry endpoint (<c>/v2/…</c>) on every node, with a local
/// verified cache filled from the origins, plus <c>/health</c> and <c>/readiness</c>.
/// </summary>
public static class AgentServer
{
    /// <summary>How long readiness waits for build-index's own readiness answer.</summary>
    private static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Validates <paramref name="options"/> and builds the agent's web application (not started).
    /// <paramref name="configure"/> may adjust the builder (logging, services) before it is built.
    /// </summary>
    /// <exception cref="ConfigurationException">The options are invalid; the message names the keys.</exception>
    public static WebApplication Build(AgentOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidator.ValidateOrThrow(options, AgentOptions.ConfigSection);

        var builder = ServiceHost.CreateBuilder("agent", options.Listen);
        var services = builder.Services;
        services.AddMetrics();
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => HttpClients.Create(options.ClientTls));
        services.AddSingleton(sp => new BuildIndexClient(sp.GetRequiredService<HttpClient>(), ServiceEndpoint.Parse(options.BuildIndex)));
        services.AddSingleton(sp => new OriginCluster(
            sp.GetRequiredService<HttpClient>(),
            options.Origins.Select(ServiceEndpoint.Parse),
            options.Replicas));
        services.AddSingleton(sp => new BlobStore(new BlobStoreOptions { Root = options.DataDir }, sp.GetRequiredService<TimeProvider>()));
        if (options.Tracker is { } tracker)
        {
            // With a tracker, blobs come through the swarm and the agent seeds what it holds.
            services.AddSingleton(sp => new TrackerClient(sp.GetRequiredService<HttpClient>(), ServiceEndpoint.Parse(tracker)));
            services.AddSingleton(sp =>
            {
                var store = sp.GetRequiredService<BlobStore>();
                return new PeerEngine(options.P2P, new PeerEngineSetup
                {
                    Store = store,
                    Partials = new PartialStore(Path.Combine(options.DataDir, "partial")),
                    Seeds = new StoreSeedSource(store),
                    Announcer = new TrackerAnnouncer(sp.GetRequiredService<TrackerClient>(), options.P2P.AdvertiseAddress),
                    TimeProvider = sp.GetRequiredService<TimeProvider>(),
                    LoggerFactory = sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>(),
                    MeterFactory = sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
                });
            });
            services.AddHostedService<PeerEngineService>();
            services.AddSingleton<OriginBlobSource>();
            services.AddSingleton<IBlobSource>(sp => new SwarmBlobSource(
                sp.GetRequiredService<TrackerClient>(),
                sp.GetRequiredService<PeerEngine>(),
                options.OriginFallback ? sp.GetRequiredService<OriginBlobSource>() : null,
                options,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<SwarmBlobSource>>()));
        }
        else
        {
            services.AddSingleton<IBlobSource, OriginBlobSource>();
        }
        services.AddSingleton<AgentStats>();
        services.AddSingleton<BlobLeases>();
        services.AddSingleton(sp =>
        {
            // A blob a request is serving stays (BlobCache.Lease); nothing the agent holds is the
            // only copy. An evicted blob's swarm stops seeding it, so the next pull downloads it afresh.
            var stats = sp.GetRequiredService<AgentStats>();
            var engine = sp.GetService<PeerEngine>();
            return new EvictionSweeper(sp.GetRequiredService<BlobStore>(), options.Eviction, static m => !m.Pinned, sp.GetRequiredService<BlobLeases>().InUse,
                stats.Evictions, stats.EvictedBytes, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<EvictionSweeper>(),
                engine is null ? null : engine.Forget);
        });
        services.AddHostedService(sp => sp.GetRequiredService<EvictionSweeper>());
        services.AddSingleton<BlobCache>();
        services.AddSingleton<RegistryHandler>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.Use(static (context, next) =>
        {
            context.Response.Headers[RegistryHandler.ApiVersionHeader] = RegistryHandler.ApiVersion;
            return next(context);
        });
        var handler = app.Services.GetRequiredService<RegistryHandler>();
        app.Map("/v2", handler.HandleAsync);
        app.Map("/v2/{**path}", handler.HandleAsync);
        app.MapPost("/v1/preload", (HttpContext context, BlobCache cache, BuildIndexClient buildIndex) => PreloadEndpoint.HandleAsync(context, cache, buildIndex));

        var buildIndex = app.Services.GetRequiredService<BuildIndexClient>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        app.MapMetrics();
        app.MapHealth(async (_, cancellationToken) =>
        {
            try
            {
                var ready = await Upstream.CallAsync(buildIndex.IsReadyAsync, ReadinessTimeout, time, cancellationToken);
                return ready ? null : $"build-index at {buildIndex.BaseAddress} is not ready";
            }
            catch (Exception ex) when (Upstream.IsFailure(ex, cancellationToken))
            {
                return $"build-index at {buildIndex.BaseAddress} does not answer: {ex.Message}";
            }
        });
        return app;
    }
}
