using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Store;

namespace Shoal.Hosting.Eviction;

/// <summary>
/// Evicts a component's cached blobs every <see cref="EvictionOptions.Interval"/>: those idle longer
/// than <see cref="EvictionOptions.TimeToIdle"/>; when the store's accounted bytes exceed the high
/// watermark of <see cref="EvictionOptions.Capacity"/>, the least recently accessed down to the low
/// watermark; and when the filesystem under the store is fuller than
/// <see cref="EvictionOptions.DiskHighWatermark"/>, the least recently accessed until about enough is
/// freed to bring it down to <see cref="EvictionOptions.DiskLowWatermark"/>. Never a pinned blob, one the component says it still needs, or one in use. The
/// origin and the agent each run one over their own store, with their own meter's counters.
/// </summary>
public sealed partial class EvictionSweeper : BackgroundService
{
    private readonly BlobStore _store;
    private readonly EvictionOptions _options;
    private readonly Func<BlobMetadata, bool> _evictable;
    private readonly Func<Digest, bool> _inUse;
    private readonly Counter<long> _evictions;
    private readonly Counter<long> _evictedBytes;
    private readonly Action<Digest>? _evicted;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PeriodicTimer _timer;
    private readonly Lock _sweepLock = new();

    /// <param name="store">The cache.</param>
    /// <param name="options">Capacity, watermarks, time to idle, interval.</param>
    /// <param name="evictable">Whether a blob may go at all, by its flags (e.g. not pinned, written back).</param>
    /// <param name="inUse">Whether a blob is in use right now (being served, copied, written back).</param>
    /// <param name="evictions">Counts evicted blobs, tagged with the <c>reason</c> (capacity, disk, idle).</param>
    /// <param name="evictedBytes">Counts their bytes.</param>
    /// <param name="time">The clock of idleness and of the sweeps.</param>
    /// <param name="logger">Where evictions are logged.</param>
    /// <param name="evicted">Told of each blob once it is gone (e.g. so the peer-to-peer engine stops seeding it).</param>
    public EvictionSweeper(BlobStore store, EvictionOptions options, Func<BlobMetadata, bool> evictable, Func<Digest, bool> inUse,
        Counter<long> evictions, Counter<long> evictedBytes, TimeProvider time, ILogger logger, Action<Digest>? evicted = null)
    {
        _evicted = evicted;
        _store = store;
        _options = options;
        _evictable = evictable;
        _inUse = inUse;
        _evictions = evictions;
        _evictedBytes = evictedBytes;
        _time = time;
        _logger = logger;
        _timer = new PeriodicTimer(options.Interval, time);
    }

    /// <summary>True when eviction is configured at all.</summary>
    public bool Enabled => _options.Capacity > 0 || _options.TimeToIdle > TimeSpan.Zero || _options.DiskHighWatermark > 0;

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
            var candidates = _store.Enumerate().Where(b => _evictable(b.Metadata)).OrderBy(b => b.Metadata.LastAccessAt).ToList();
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
                var target = (long)(_options.Capacity * _options.LowWatermark);
                evicted += EvictOldest(candidates, _ => _store.TotalBytes <= target, "capacity").Evicted;
                if (_store.TotalBytes > target)
                {
                    Log.EvictionShort(_logger, _store.TotalBytes, target);
                }
            }
            if (_options.DiskHighWatermark > 0 && DiskUsage() is var (total, used) && total > 0 && used > total * _options.DiskHighWatermark)
            {
                // Freeing a blob frees about its size on the filesystem.
                var toFree = used - (long)(total * _options.DiskTarget);
                var (count, freed) = EvictOldest(candidates, freed => freed >= toFree, "disk");
                evicted += count;
                if (freed < toFree)
                {
                    Log.DiskShort(_logger, _store.Root, used, total, _options.DiskTarget);
                }
            }
            return evicted;
        }
    }

    /// <summary>
    /// Evicts <paramref name="candidates"/> in their order (least recently accessed first) until
    /// <paramref name="enough"/>, given the bytes freed so far, says so; returns how many went and their bytes.
    /// </summary>
    private (int Evicted, long Freed) EvictOldest(List<BlobInfo> candidates, Func<long, bool> enough, string reason)
    {
        var evicted = 0;
        var freed = 0L;
        foreach (var blob in candidates)
        {
            if (enough(freed))
            {
                break;
            }
            if (TryEvict(blob, reason))
            {
                evicted++;
                freed += blob.Size;
            }
        }
        return (evicted, freed);
    }

    /// <summary>The size and used bytes of the filesystem that holds the store (statvfs): what <c>df</c> shows.</summary>
    private (long Total, long Used) DiskUsage()
    {
        var drive = new DriveInfo(_store.Root);
        return (drive.TotalSize, drive.TotalSize - drive.AvailableFreeSpace);
    }

    private bool TryEvict(BlobInfo blob, string reason)
    {
        // Look again: the flags may have changed, or a reader may have started, since the listing.
        if (_inUse(blob.Digest) || _store.Stat(blob.Digest) is not { } current || !_evictable(current.Metadata)
            || current.Metadata.LastAccessAt != blob.Metadata.LastAccessAt)
        {
            return false;
        }
        if (!_store.Delete(blob.Digest))
        {
            return false;
        }
        _evictions.Add(1, new KeyValuePair<string, object?>("reason", reason));
        _evictedBytes.Add(blob.Size);
        Log.Evicted(_logger, blob.Digest, blob.Size, reason);
        _evicted?.Invoke(blob.Digest);
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

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Evicted {Digest} ({Size} bytes, {Reason})")]
        public static partial void Evicted(ILogger logger, Digest digest, long size, string reason);

        [LoggerMessage(2, LogLevel.Warning, "Eviction could not get the cache below its low watermark: {Bytes} bytes, target {Target} (the rest is pinned, still needed or in use)")]
        public static partial void EvictionShort(ILogger logger, long bytes, long target);

        [LoggerMessage(4, LogLevel.Warning, "Eviction could not get the filesystem under {Root} below its disk low watermark: {Used} of {Total} bytes in use, target {Target:P0} (the rest is not the cache's, or pinned, still needed or in use)")]
        public static partial void DiskShort(ILogger logger, string root, long used, long total, double target);

        [LoggerMessage(3, LogLevel.Warning, "The eviction sweep failed")]
        public static partial void SweepFailed(ILogger logger, Exception exception);
    }
}
