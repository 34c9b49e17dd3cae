using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core.Store;
using Shoal.Hosting;
using Shoal.Proxy.Internal;

namespace Shoal.Proxy;

/// <summary>
/// Builds the proxy: the Docker Registry V2 / OCI distribution API for push and pull under
/// <c>/v2/</c>, with blob bytes in the origin cluster and tags, manifest revisions and blob links
/// in build-index; plus <c>/health</c> and <c>/readiness</c>; plus preheat (registry notifications,
/// Harbor's "kraken" and "dragonfly" preheat providers, <c>/v1/preheat/jobs</c>).
/// </summary>
public static class ProxyServer
{
    /// <summary>
    /// Validates <paramref name="options"/> and builds the proxy's web application (not started).
    /// <paramref name="configure"/> runs after the proxy registered its services, so it may replace
    /// them (a <see cref="TimeProvider"/>) or adjust logging.
    /// </summary>
    /// <exception cref="ConfigurationException">The options are invalid; the message names the keys.</exception>
    public static WebApplication Build(ProxyOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidator.ValidateOrThrow(options, ProxyOptions.ConfigSection);
        var dataDir = Path.GetFullPath(options.DataDir);

        var builder = ServiceHost.CreateBuilder("proxy", options.Listen);
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(_ => HttpClients.Create(options.ClientTls));
        services.AddSingleton(sp => new OriginCluster(
            sp.GetRequiredService<HttpClient>(), options.Origins.Select(ServiceEndpoint.Parse), options.Replicas, options.OriginTimeout));
        services.AddSingleton(sp => new BuildIndexClient(sp.GetRequiredService<HttpClient>(), ServiceEndpoint.Parse(options.BuildIndex)));
        services.AddSingleton(sp => new UploadStore(dataDir, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ProxyMetrics>();
        services.AddSingleton<SessionLocks>();
        services.AddSingleton<BlobHandlers>();
        services.AddSingleton<UploadHandlers>();
        services.AddSingleton<ManifestHandlers>();
        services.AddSingleton<ListingHandlers>();
        services.AddSingleton<RegistryDispatcher>();
        UploadPurger.Register(services, options.UploadSessionTtl);
        services.AddSingleton(options.Preheat);
        services.AddSingleton<Preheat.UpstreamRegistry>();
        services.AddSingleton<Preheat.TokenCheck>();
        services.TryAddSingleton(_ => new Preheat.HostResolver());
        services.AddSingleton<Preheat.AgentDirectory>();
        services.AddSingleton<Preheat.JobStore>();
        services.AddSingleton<Preheat.ManifestSource>();
        services.AddSingleton<Preheat.PreheatRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<Preheat.PreheatRunner>());
        services.AddSingleton<Preheat.PreheatEndpoints>();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Open the upload store now: a data directory that cannot be used fails the start, not the first push.
        app.Services.GetRequiredService<UploadStore>();
        app.Use(RegistryDispatcher.AddApiVersionHeader);
        var dispatcher = app.Services.GetRequiredService<RegistryDispatcher>();
        app.Map("/v2", dispatcher.HandleAsync);
        app.Map("/v2/{**path}", dispatcher.HandleAsync);
        app.MapMetrics();
        app.MapHealth(dispatcher.CheckReadinessAsync);
        // Open the preheat job store now too (creates preheat/jobs/, reloads unfinished jobs): an unusable directory fails the start.
        app.Services.GetRequiredService<Preheat.JobStore>();
        Preheat.PreheatEndpoints.Map(app);
        return app;
    }
}
