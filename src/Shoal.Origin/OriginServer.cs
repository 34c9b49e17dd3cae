using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Shoal.Core.Store;
using Shoal.Hosting;
using Shoal.Hosting.Eviction;
using Shoal.P2P.Engine;
using Shoal.Origin.Internal;
using Shoal.Storage;

namespace Shoal.Origin;

/// <summary>Builds an origin server from its options.</summary>
public static class OriginServer
{
    /// <summary>
    /// Validates <paramref name="options"/> and builds the origin's web application (not started).
    /// <paramref name="configure"/> runs after the origin registered its services, so it may replace
    /// them (a <see cref="TimeProvider"/>, a <see cref="BackendRouter"/>) or adjust logging.
    /// </summary>
    /// <exception cref="ConfigurationException">The options are invalid; the message names the keys.</exception>
    public static WebApplication Build(OriginOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidator.ValidateOrThrow(options, OriginOptions.ConfigSection);
        var dataDir = Path.GetFullPath(options.DataDir);

        var builder = ServiceHost.CreateBuilder("origin", options.Listen);
        var services = builder.Services;
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp => new BlobStore(new BlobStoreOptions { Root = dataDir }, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new UploadStore(dataDir, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<OriginMetrics>();
        services.AddSingleton<BlobLeases>();
        services.AddSingleton<ClusterMembership>();
        services.AddHostedService<ClusterMonitor>();
        services.AddSingleton(_ => BackendRouter.Create(options.EffectiveBackends(), writeThrough: r => r is OriginBackendRouteOptions { IsWriteThrough: true }));
        services.AddSingleton(sp =>
        {
            var queue = new WriteBackQueue(dataDir, sp.GetRequiredService<TimeProvider>());
            var metrics = sp.GetRequiredService<OriginMetrics>();
            metrics.Meter.CreateObservableGauge("shoal.origin.writeback.queue_depth", () => queue.Depth, "{task}", "Write-back and replication tasks waiting in the persisted queue.");
            return queue;
        });
        services.AddSingleton<WriteBackWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<WriteBackWorker>());
        services.AddSingleton(sp =>
        {
            // Never a pinned blob, nor one awaiting write-back (the cache holds the only copy), nor one
            // in use; an evicted blob's seed swarm closes (its open file would keep the disk space).
            var metrics = sp.GetRequiredService<OriginMetrics>();
            var engine = sp.GetService<PeerEngine>();
            return new EvictionSweeper(sp.GetRequiredService<BlobStore>(), options.Eviction, static m => !m.Pinned && m.Persisted,
                sp.GetRequiredService<BlobLeases>().InUse, metrics.Evictions, metrics.EvictedBytes, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<EvictionSweeper>(), engine is null ? null : engine.Forget);
        });
        services.AddHostedService(sp => sp.GetRequiredService<EvictionSweeper>());
        services.AddSingleton<BackendFetcher>();
        services.AddSingleton<CommitFollowUp>();
        services.AddSingleton<BlobHandlers>();
        services.AddSingleton<UploadHandlers>();
        services.AddSingleton<RequestFailureFilter>();
        UploadPurger.Register(services, options.UploadSessionTtl);
        if (options.P2P is { } p2p)
        {
            services.AddSingleton<OriginSeedSource>();
            services.AddSingleton(sp => new PeerEngine(p2p, new PeerEngineSetup
            {
                IsOrigin = true,
                Seeds = sp.GetRequiredService<OriginSeedSource>(),
                TimeProvider = sp.GetRequiredService<TimeProvider>(),
                LoggerFactory = sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>(),
                MeterFactory = sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            }));
            services.AddHostedService<PeerEngineService>();
        }
        configure?.Invoke(builder);

        var app = builder.Build();
        // Open the stores now: a data directory that cannot be used fails the start, not the first request.
        app.Services.GetRequiredService<BlobStore>();
        app.Services.GetRequiredService<UploadStore>();
        app.Services.GetRequiredService<WriteBackQueue>();
        var store = app.Services.GetRequiredService<BlobStore>();
        app.Services.GetRequiredService<OriginMetrics>().Meter.CreateObservableGauge("shoal.origin.cache.bytes", () => store.TotalBytes, "By", "Bytes of the blobs in the cache (the store's own accounting; what eviction measures).");
        app.MapOriginEndpoints();
        app.MapGet("/v1/p2p", (HttpContext context) =>
        {
            var engine = context.RequestServices.GetService<PeerEngine>();
            if (engine?.LocalEndPoint is not { } endPoint)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "no peer-to-peer listener", detail: "this origin has no p2p listener configured");
            }
            var host = options.P2P!.AdvertiseAddress;
            if (host is null && System.Net.IPAddress.TryParse(options.P2P.Listen.Address, out var bound) && !bound.Equals(System.Net.IPAddress.Any) && !bound.Equals(System.Net.IPAddress.IPv6Any))
            {
                host = bound.ToString();
            }
            return Results.Json(new Shoal.Clients.Origin.OriginPeerEndpoint(host, endPoint.Port, engine.PeerId.ToString()));
        });
        app.MapMetrics();
        app.MapHealth((_, _) => Task.FromResult(CheckWritable(dataDir)));
        return app;
    }

    /// <summary>Null when a file can be created in <paramref name="dataDir"/>, else why not.</summary>
    private static string? CheckWritable(string dataDir)
    {
        var probe = Path.Combine(dataDir, ".readiness-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                stream.WriteByte(1);
            }
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"data directory {dataDir} is not writable: {ex.Message}";
        }
    }
}
