using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Shoal.Core.Store;
using Shoal.Hosting;
using Shoal.Origin.Internal;
using Shoal.Storage;

namespace Shoal.Origin;

/// <summary>Builds an origin server from its options.</summary>
public static class OriginServer
{
    /// <summary>
    /// Validates <paramref name="options"/> and builds the origin's web application (not started).
    /// <paramref name="configure"/> runs after the origin registered its services, so it may replace
    /// them (a <see cref="TimeProvider"/>, an <see cref="IBlobBackend"/>) or adjust logging.
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
        services.AddSingleton<Replicator>();
        services.AddSingleton<CommitFollowUp>();
        services.AddSingleton<BlobHandlers>();
        services.AddSingleton<UploadHandlers>();
        services.AddSingleton<RequestFailureFilter>();
        if (options.Backend is { } backend)
        {
            services.AddSingleton(_ => BackendFactory.Create(backend));
            services.AddSingleton<BackendFetcher>();
            services.AddSingleton<IWriteBack, WriteThrough>();
        }
        else
        {
            services.AddSingleton<IWriteBack, LocalStoreOfRecord>();
        }
        services.AddHostedService<UploadPurger>();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Open the stores now: a data directory that cannot be used fails the start, not the first request.
        app.Services.GetRequiredService<BlobStore>();
        app.Services.GetRequiredService<UploadStore>();
        app.MapOriginEndpoints();
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
