using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Core.Store;

namespace Shoal.Proxy.Internal;

/// <summary>Periodically removes upload sessions older than <see cref="ProxyOptions.UploadSessionTtl"/>.</summary>
internal sealed class UploadPurger : BackgroundService
{
    private readonly UploadStore _uploads;
    private readonly TimeSpan _ttl;
    private readonly ILogger _logger;
    // Created here, not in ExecuteAsync, so the timer exists (and a fake clock can drive it) once the host has started.
    private readonly PeriodicTimer _timer;

    public UploadPurger(UploadStore uploads, ProxyOptions options, TimeProvider time, ILogger<UploadPurger> logger)
    {
        _uploads = uploads;
        _ttl = options.UploadSessionTtl;
        _logger = logger;
        _timer = new PeriodicTimer(IntervalFor(_ttl), time);
    }

    /// <summary>A quarter of the TTL, between 1 second and 5 minutes: sessions outlive their TTL by at most that much.</summary>
    internal static TimeSpan IntervalFor(TimeSpan ttl)
        => TimeSpan.FromTicks(Math.Clamp(ttl.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.FromMinutes(5).Ticks));

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
                        Log.UploadsPurged(_logger, purged);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Log.PurgeFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }
}
