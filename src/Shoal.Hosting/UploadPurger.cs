using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Core.Store;

namespace Shoal.Hosting;

/// <summary>
/// Periodically removes upload sessions older than their time to live, for every component that
/// accepts resumable uploads (the proxy's registry uploads, origins' chunked uploads).
/// </summary>
public sealed partial class UploadPurger : BackgroundService
{
    private readonly UploadStore _uploads;
    private readonly TimeSpan _ttl;
    private readonly ILogger _logger;
    // Created here, not in ExecuteAsync, so the timer exists (and a fake clock can drive it) once the host has started.
    private readonly PeriodicTimer _timer;

    public UploadPurger(UploadStore uploads, TimeSpan ttl, TimeProvider time, ILogger<UploadPurger> logger)
    {
        _uploads = uploads;
        _ttl = ttl;
        _logger = logger;
        _timer = new PeriodicTimer(IntervalFor(ttl), time);
    }

    /// <summary>A quarter of the TTL, between 1 second and 5 minutes: sessions outlive their TTL by at most that much.</summary>
    public static TimeSpan IntervalFor(TimeSpan ttl)
        => TimeSpan.FromTicks(Math.Clamp(ttl.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.FromMinutes(5).Ticks));

    /// <summary>Registers a purger of the registered <see cref="UploadStore"/> with time to live <paramref name="ttl"/>.</summary>
    public static void Register(IServiceCollection services, TimeSpan ttl)
        => services.AddHostedService(sp => new UploadPurger(
            sp.GetRequiredService<UploadStore>(), ttl, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<UploadPurger>>()));

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var purged = _uploads.PurgeOlderThan(_ttl);
                    if (purged > 0)
                    {
                        UploadsPurged(_logger, purged);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    PurgeFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }

    [LoggerMessage(1, LogLevel.Information, "Purged {Count} expired upload sessions")]
    private static partial void UploadsPurged(ILogger logger, int count);

    [LoggerMessage(2, LogLevel.Warning, "Purging expired upload sessions failed")]
    private static partial void PurgeFailed(ILogger logger, Exception exception);
}
