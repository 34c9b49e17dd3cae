using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Shoal.Clients;
using Shoal.Clients.Origin;
using Shoal.Hosting;
using Shoal.Tracker.Internal;
using StackExchange.Redis;

namespace Shoal.Tracker;

/// <summary>
/// Builds a tracker: <c>POST /v1/announce/{infoHash}</c> (swarm membership and peer hand-out),
/// <c>GET /v1/metainfo/{digest}</c> (from the origins, cached), plus <c>/health</c>,
/// <c>/readiness</c> (ready unless its Redis peer store does not answer) and <c>/metrics</c>.
/// </summary>
public static class TrackerServer
{
    /// <summary>
    /// Validates <paramref name="options"/> and builds the tracker's web application (not started).
    /// <paramref name="configure"/> may adjust the builder (logging, services, a <see cref="TimeProvider"/>
    /// or an <see cref="IPeerStore"/> of its own) before it is built.
    /// </summary>
    /// <exception cref="ConfigurationException">The options are invalid; the message names the keys.</exception>
    public static WebApplication Build(TrackerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidator.ValidateOrThrow(options, TrackerOptions.ConfigSection);

        var builder = ServiceHost.CreateBuilder("tracker", options.Listen);
        var services = builder.Services;
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => HttpClients.Create(options.ClientTls));
        services.AddSingleton(sp => new OriginCluster(
            sp.GetRequiredService<HttpClient>(),
            options.Origins.Select(ServiceEndpoint.Parse),
            options.Replicas));
        if (options.Redis is { } redis)
        {
            services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis.ToConfiguration()));
            services.AddSingleton(sp => new RedisPeerStore(sp.GetRequiredService<IConnectionMultiplexer>(), redis.KeyPrefix, sp.GetRequiredService<TimeProvider>(), options.PeerTtl, options.MaxPeersPerSwarm));
            services.AddSingleton<IPeerStore>(sp => sp.GetRequiredService<RedisPeerStore>());
        }
        else
        {
            services.AddSingleton<IPeerStore>(sp => new InMemoryPeerStore(sp.GetRequiredService<TimeProvider>(), options.PeerTtl, options.MaxPeersPerSwarm));
        }
        services.AddSingleton<TrackerMetrics>();
        services.AddSingleton<OriginPeerDirectory>();
        services.AddSingleton<AnnounceHandler>();
        services.AddSingleton<MetaInfoHandler>();
        configure?.Invoke(builder);

        var app = builder.Build();
        var announce = app.Services.GetRequiredService<AnnounceHandler>();
        var metaInfo = app.Services.GetRequiredService<MetaInfoHandler>();
        var meter = app.Services.GetRequiredService<TrackerMetrics>().Meter;
        meter.CreateObservableGauge("shoal.tracker.metainfo.cached", () => metaInfo.CachedCount, "{blob}", "Metainfo documents in the tracker's cache.");
        if (app.Services.GetRequiredService<IPeerStore>() is InMemoryPeerStore memory)
        {
            meter.CreateObservableGauge("shoal.tracker.swarms", () => memory.SwarmCount, "{swarm}", "Swarms with at least one live peer (in this tracker's memory).");
        }
        app.MapPost("/v1/announce/{infoHash}", (HttpContext context, string infoHash) => announce.AnnounceAsync(context, infoHash));
        app.MapGet("/v1/metainfo/{digest}", (HttpContext context, string digest) => metaInfo.GetAsync(context, digest));
        app.MapMetrics();
        // Ready unless the swarms live in a Redis that does not answer (an in-memory store always does).
        var redisStore = options.Redis is null ? null : app.Services.GetRequiredService<RedisPeerStore>();
        app.MapHealth(redisStore is null ? null : (_, _) => redisStore.CheckAsync());
        return app;
    }
}
