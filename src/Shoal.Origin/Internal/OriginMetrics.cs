using System.Diagnostics.Metrics;

namespace Shoal.Origin.Internal;

/// <summary>The origin's counters, on the meter <c>Shoal.Origin</c>.</summary>
internal sealed class OriginMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Shoal.Origin";

    public OriginMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        BytesServed = Meter.CreateCounter<long>("shoal.origin.bytes_served", "By", "Blob bytes sent in GET responses.");
        BackendFetches = Meter.CreateCounter<long>("shoal.origin.backend.fetches", "{fetch}", "Fills of cache misses (from peer origins or the backend), by outcome (stored, not_found, corrupt, failed).");
        BackendFetchedBytes = Meter.CreateCounter<long>("shoal.origin.backend.fetched_bytes", "By", "Verified bytes fetched from peer origins or the backend into the cache.");
        BlobsCommitted = Meter.CreateCounter<long>("shoal.origin.blobs_committed", "{blob}", "Uploaded blobs verified and stored (new ones only).");
        Replications = Meter.CreateCounter<long>("shoal.origin.replications", "{copy}", "Copies of uploaded blobs sent to other owners, by outcome (ok, failed).");
        WriteBacks = Meter.CreateCounter<long>("shoal.origin.writebacks", "{blob}", "Write-back attempts of uploaded blobs to their backend, by outcome (ok, failed).");
        Evictions = Meter.CreateCounter<long>("shoal.origin.evictions", "{blob}", "Blobs evicted from the cache, by reason (capacity, disk, idle).");
        EvictedBytes = Meter.CreateCounter<long>("shoal.origin.evicted_bytes", "By", "Bytes of evicted blobs.");
        MetaInfoPending = Meter.CreateCounter<long>("shoal.origin.metainfo.pending", "{request}", "Metainfo requests answered 202 Accepted: the blob was still being fetched (the caller asks again).");
    }

    public Counter<long> MetaInfoPending { get; }

    public Counter<long> WriteBacks { get; }

    public Counter<long> Evictions { get; }

    public Counter<long> EvictedBytes { get; }

    /// <summary>The meter itself (tests listen to exactly this instance).</summary>
    public Meter Meter { get; }

    public Counter<long> BytesServed { get; }

    public Counter<long> BackendFetches { get; }

    public Counter<long> BackendFetchedBytes { get; }

    public Counter<long> BlobsCommitted { get; }

    public Counter<long> Replications { get; }
}
