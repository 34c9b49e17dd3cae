using System.ComponentModel.DataAnnotations;

namespace Shoal.Storage;

/// <summary>
/// Bandwidth limits of one backend (<c>backend:bandwidth</c>), applied by <see cref="BackendFactory"/>
/// through <see cref="ThrottledBackend"/>. As in Kraken, ingress is data read from the backend into
/// this process (downloads) and egress is data written to the backend (uploads).
/// </summary>
public sealed class BandwidthOptions
{
    /// <summary>The most bytes per second read from the backend, over all reads. Default 0 (unlimited).</summary>
    [Range(0, long.MaxValue)]
    public long IngressBytesPerSecond { get; set; }

    /// <summary>The most bytes per second written to the backend, over all uploads. Default 0 (unlimited).</summary>
    [Range(0, long.MaxValue)]
    public long EgressBytesPerSecond { get; set; }

    /// <summary>True when either direction is limited.</summary>
    public bool IsLimited => IngressBytesPerSecond > 0 || EgressBytesPerSecond > 0;
}
