using System.Diagnostics.Metrics;

namespace Shoal.Proxy.Internal;

/// <summary>The proxy's counters, on the meter <c>Shoal.Proxy</c> (reported at <c>/metrics</c>).</summary>
internal sealed class ProxyMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Shoal.Proxy";

    private readonly Counter<long> _blobsPushed;
    private readonly Counter<long> _bytesPushed;
    private readonly Counter<long> _blobsMounted;
    private readonly Counter<long> _uploadsRefused;
    private readonly Counter<long> _manifestsPushed;
    private readonly Counter<long> _preheatJobs;

    public ProxyMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _blobsPushed = meter.CreateCounter<long>("shoal.proxy.blobs.pushed", "{blob}", "Blob uploads committed: verified, stored by their owning origins and linked to the repository.");
        _bytesPushed = meter.CreateCounter<long>("shoal.proxy.blobs.pushed_bytes", "By", "Bytes of committed blob uploads.");
        _blobsMounted = meter.CreateCounter<long>("shoal.proxy.blobs.mounted", "{blob}", "Cross-repository mounts that made a blob part of a repository without an upload.");
        _uploadsRefused = meter.CreateCounter<long>("shoal.proxy.uploads.refused", "{upload}", "Uploads refused at commit because the bytes did not match the digest the client gave.");
        _manifestsPushed = meter.CreateCounter<long>("shoal.proxy.manifests.pushed", "{manifest}", "Manifests stored (by tag or by digest).");
        _preheatJobs = meter.CreateCounter<long>("shoal.proxy.preheat.jobs", "{job}", "Preheat jobs finished, by outcome (succeeded, failed).");
    }

    public void BlobPushed(long size)
    {
        _blobsPushed.Add(1);
        _bytesPushed.Add(size);
    }

    public void BlobMounted() => _blobsMounted.Add(1);

    public void UploadRefused() => _uploadsRefused.Add(1);

    public void ManifestPushed() => _manifestsPushed.Add(1);

    public void PreheatFinished(bool succeeded) => _preheatJobs.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));
}
