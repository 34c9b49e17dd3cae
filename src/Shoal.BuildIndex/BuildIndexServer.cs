using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Shoal.BuildIndex.Internal;
using Shoal.Hosting;

namespace Shoal.BuildIndex;

/// <summary>
/// Builds build-index: the per-repository record of tags (tag → manifest digest), manifest
/// revisions and blob links, and the catalog, over <c>/v1/repositories</c>; plus <c>/health</c> and
/// <c>/readiness</c> (ready while the data directory takes writes). With
/// <see cref="BuildIndexOptions.Backends"/> it is a pull-through index of the registries behind it.
/// </summary>
public static class BuildIndexServer
{
    /// <summary>
    /// Validates <paramref name="options"/> and builds build-index's web application (not started).
    /// <paramref name="configure"/> may adjust the builder (logging, services such as a <see cref="TimeProvider"/>) before it is built.
    /// </summary>
    /// <exception cref="ConfigurationException">The options are invalid; the message names the keys.</exception>
    public static WebApplication Build(BuildIndexOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidator.ValidateOrThrow(options, BuildIndexOptions.ConfigSection);

        var builder = ServiceHost.CreateBuilder("build-index", options.Listen);
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(sp => new FileTagStore(options.DataDir, sp.GetRequiredService<ILogger<FileTagStore>>()));
        services.AddSingleton(_ => new IndexBackends(options));
        services.TryAddSingleton<ITagStore>(sp => new RoutedTagStore(
            sp.GetRequiredService<IndexBackends>(),
            sp.GetRequiredService<FileTagStore>(),
            options.UpstreamTagTtl,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<UpstreamIndex>();
        services.AddSingleton<BuildIndexMetrics>();
        if (options.Replication.Count > 0)
        {
            services.AddSingleton(_ => HttpClients.Create(options.ClientTls));
            services.AddSingleton(sp => new ReplicationQueue(options.DataDir, sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<Replicator>();
            services.AddHostedService(sp => sp.GetRequiredService<Replicator>());
        }
        services.AddSingleton<RepositoryEndpoints>();
        configure?.Invoke(builder);

        var app = builder.Build();
        var endpoints = app.Services.GetRequiredService<RepositoryEndpoints>();
        app.MapGet(RepositoryEndpoints.Prefix, endpoints.ListRepositoriesAsync);
        if (app.Services.GetService<ReplicationQueue>() is { } queue)
        {
            app.Services.GetRequiredService<BuildIndexMetrics>().Meter.CreateObservableGauge(
                "shoal.buildindex.replication.queue_depth", () => queue.Depth, "{task}", "Tag replications waiting (due or after a failure).");
            app.MapGet("/v1/replication", async (HttpRequest request, CancellationToken cancellationToken) =>
            {
                var limit = int.TryParse(request.Query["limit"], out var n) && n > 0 ? Math.Min(n, 10_000) : 1000;
                var tasks = await queue.ListAsync(limit, cancellationToken);
                return Results.Json(new ReplicationListing(queue.Depth, [.. tasks.Select(t => new ReplicationListing.Entry(
                    t.Repository, t.Tag, t.Digest.ToString(), t.Remote, t.Delete, t.Attempts, t.NextAttempt, t.LastError))]), RecordJsonContext.Default.ReplicationListing);
            });
        }
        app.MapMethods(RepositoryEndpoints.Prefix + "/{**path}", [HttpMethods.Get, HttpMethods.Put, HttpMethods.Delete], endpoints.HandleAsync);

        var store = app.Services.GetRequiredService<ITagStore>();
        app.MapMetrics();
        app.MapHealth((_, cancellationToken) => store.CheckWritableAsync(cancellationToken));
        return app;
    }
}
