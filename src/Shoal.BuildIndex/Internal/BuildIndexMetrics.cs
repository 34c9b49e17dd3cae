using System.Diagnostics.Metrics;

namespace Shoal.BuildIndex.Internal;

/// <summary>build-index's counters, on the meter <c>Shoal.BuildIndex</c> (reported at <c>/metrics</c>).</summary>
internal sealed class BuildIndexMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Shoal.BuildIndex";

    private readonly Counter<long> _replications;
    private readonly Counter<long> _blobsCopied;
    private readonly Counter<long> _bytesCopied;

    public BuildIndexMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _replications = Meter.CreateCounter<long>("shoal.buildindex.replications", "{tag}", "Tag replication attempts, by outcome (ok, failed).");
        _blobsCopied = Meter.CreateCounter<long>("shoal.buildindex.replication.blobs_copied", "{blob}", "Blobs copied to remote clusters (those already there are skipped).");
        _bytesCopied = Meter.CreateCounter<long>("shoal.buildindex.replication.bytes_copied", "By", "Bytes of blobs copied to remote clusters.");
    }

    /// <summary>The meter (the queue-depth gauge is added where the queue is built).</summary>
    public Meter Meter { get; }

    public void Replicated(string outcome) => _replications.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void BlobCopied(long bytes)
    {
        _blobsCopied.Add(1);
        _bytesCopied.Add(bytes);
    }
}
