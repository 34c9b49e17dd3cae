using System.Diagnostics.Metrics;

namespace Shoal.Agent.Internal;

/// <summary>
/// The agent's counters, exported through the <c>Shoal.Agent</c> meter and kept as plain totals
/// that tests (and a future status page) can read.
/// </summary>
internal sealed class AgentStats
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Shoal.Agent";

    private readonly Counter<long> _cacheHits;
    private readonly Counter<long> _downloadsStarted;
    private readonly Counter<long> _downloadsJoined;
    private readonly Counter<long> _blobsDownloaded;
    private readonly Counter<long> _bytesDownloaded;
    private readonly Counter<long> _downloadsFailed;
    private long _cacheHitCount;
    private long _downloadsStartedCount;
    private long _downloadsJoinedCount;
    private long _blobsDownloadedCount;
    private long _bytesDownloadedCount;
    private long _downloadsFailedCount;

    public AgentStats(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _cacheHits = meter.CreateCounter<long>("shoal.agent.cache.hits", "{request}", "Blob and manifest requests served from the local store without downloading.");
        _downloadsStarted = meter.CreateCounter<long>("shoal.agent.downloads.started", "{download}", "Downloads started on a cache miss.");
        _downloadsJoined = meter.CreateCounter<long>("shoal.agent.downloads.joined", "{request}", "Requests that waited for a download another request had started.");
        _blobsDownloaded = meter.CreateCounter<long>("shoal.agent.blobs.downloaded", "{blob}", "Blobs downloaded, verified and stored.");
        _bytesDownloaded = meter.CreateCounter<long>("shoal.agent.bytes.downloaded", "By", "Bytes of blobs downloaded, verified and stored.");
        _downloadsFailed = meter.CreateCounter<long>("shoal.agent.downloads.failed", "{download}", "Downloads that failed (upstream unavailable or corrupt content).");
        Evictions = meter.CreateCounter<long>("shoal.agent.evictions", "{blob}", "Blobs evicted from the node's cache, by reason (capacity, disk, idle).");
        EvictedBytes = meter.CreateCounter<long>("shoal.agent.evicted_bytes", "By", "Bytes of evicted blobs.");
    }

    /// <summary>Blobs evicted (counted by the eviction sweeper).</summary>
    public Counter<long> Evictions { get; }

    /// <summary>Bytes of evicted blobs.</summary>
    public Counter<long> EvictedBytes { get; }

    /// <summary>Requests served from the store without a download.</summary>
    public long CacheHits => Interlocked.Read(ref _cacheHitCount);

    /// <summary>Downloads started (one per blob, however many requests wait for it).</summary>
    public long DownloadsStarted => Interlocked.Read(ref _downloadsStartedCount);

    /// <summary>Requests that joined a download already under way.</summary>
    public long DownloadsJoined => Interlocked.Read(ref _downloadsJoinedCount);

    /// <summary>Blobs downloaded and stored.</summary>
    public long BlobsDownloaded => Interlocked.Read(ref _blobsDownloadedCount);

    /// <summary>Bytes downloaded and stored.</summary>
    public long BytesDownloaded => Interlocked.Read(ref _bytesDownloadedCount);

    /// <summary>Downloads that failed.</summary>
    public long DownloadsFailed => Interlocked.Read(ref _downloadsFailedCount);

    public void CacheHit()
    {
        Interlocked.Increment(ref _cacheHitCount);
        _cacheHits.Add(1);
    }

    public void DownloadStarted()
    {
        Interlocked.Increment(ref _downloadsStartedCount);
        _downloadsStarted.Add(1);
    }

    public void DownloadJoined()
    {
        Interlocked.Increment(ref _downloadsJoinedCount);
        _downloadsJoined.Add(1);
    }

    public void Downloaded(long bytes)
    {
        Interlocked.Increment(ref _blobsDownloadedCount);
        Interlocked.Add(ref _bytesDownloadedCount, bytes);
        _blobsDownloaded.Add(1);
        _bytesDownloaded.Add(bytes);
    }

    public void DownloadFailed()
    {
        Interlocked.Increment(ref _downloadsFailedCount);
        _downloadsFailed.Add(1);
    }
}
