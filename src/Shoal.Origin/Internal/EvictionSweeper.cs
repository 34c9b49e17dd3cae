using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Core.Store;

namespace Shoal.Origin.Internal;

/// <summary>
/// Evicts cached blobs every <see cref="OriginEvictionOptions.Interval"/>: those idle longer than
/// <see cref="OriginEvictionOptions.TimeToIdle"/>, and, when the store's accounted bytes exceed the
/// high watermark of <see cref="OriginEvictionOptions.Capacity"/>, the least recently accessed down
/// to the low watermark. Never a pinned blob, one awaiting write-back (not persisted), or one in use.
/// </summary>
internal sealed class EvictionSweeper : BackgroundService
{
    private readonly BlobStore _store;
    private readonly BlobLeases _leases;
    private readonly OriginMetrics _metrics;
    private readonly OriginEvictionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PeriodicTimer _timer;
    private readonly object _sweepLock = new();

    public EvictionSweeper(BlobStore store, BlobLeases leases, OriginMetrics metrics, OriginOptions options, TimeProvider time, ILogger<EvictionSweeper> logger)
    {
        _store = store;
        _leases = leases;
        _metrics = metrics;
        _options = options.Eviction;
        _time = time;
        _logger = logger;
        _timer = new PeriodicTimer(_options.Interval, time);
    }

    /// <summary>True when eviction is configured at all.</summary>
    public bool Enabled => _options.Capacity > 0 || _options.TimeToIdle > TimeSpan.Zero;

    /// <summary>Runs one sweep; returns how many blobs it evicted.</summary>
    public int Sweep()
    {
        if (!Enabled)
        {
            return 0;
        }
        lock (_sweepLock)
        {
            var now = _time.GetUtcNow();
            var candidates = _store.Enumerate().Where(b => !b.Metadata.Pinned && b.Metadata.Persisted).OrderBy(b => b.Metadata.LastAccessAt).ToList();
            var evicted = 0;
            if (_options.TimeToIdle > TimeSpan.Zero)
            {
                foreach (var blob in candidates.Where(b => now - b.Metadata.LastAccessAt > _options.TimeToIdle).ToArray())
                {
                    if (TryEvict(blob, "idle"))
                    {
                        evicted++;
                    }
                    candidates.Remove(blob);
                }
            }
            if (_options.Capacity > 0 && _store.TotalBytes > _options.Capacity * _options.HighWatermark)
            {
                var target = _options.Capacity * _options.LowWatermark;
                foreach (var blob in candidates)
                {
                    if (_store.TotalBytes <= target)
                    {
                        break;
                    }
                    if (TryEvict(blob, "capacity"))
                    {
                        evicted++;
                    }
                }
                if (_store.TotalBytes > target)
                {
                    Log.EvictionShort(_logger, _store.TotalBytes, (long)target);
                }
            }
            return evicted;
        }
    }

    private bool TryEvict(BlobInfo blob, string reason)
    {
        // Look again: the flags may have changed, or a reader may have started, since the listing.
        if (_leases.InUse(blob.Digest) || _store.Stat(blob.Digest) is not { Metadata: { Pinned: false, Persisted: true } } current
            || current.Metadata.LastAccessAt != blob.Metadata.LastAccessAt)
        {
            return false;
        }
        if (!_store.Delete(blob.Digest))
        {
            return false;
        }
        _metrics.Evictions.Add(1, new KeyValuePair<string, object?>("reason", reason));
        _metrics.EvictedBytes.Add(blob.Size);
        Log.Evicted(_logger, blob.Digest, blob.Size, reason);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        try
        {
            while (await _timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    Sweep();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Log.SweepFailed(_logger, ex);
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
