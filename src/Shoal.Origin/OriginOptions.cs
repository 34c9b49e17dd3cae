using System.ComponentModel.DataAnnotations;
using Shoal.Hosting;
using Shoal.P2P;
using Shoal.Storage;

namespace Shoal.Origin;

/// <summary>
/// Configuration of an origin: a content-addressed blob cache in front of reliable storage that
/// seeds the swarm. Bound from the <c>origin</c> section.
/// </summary>
public sealed class OriginOptions
{
    /// <summary>The configuration section.</summary>
    public const string ConfigSection = "origin";

    /// <summary>The default port.</summary>
    public const int DefaultPort = 15002;

    /// <summary>The conventional port of the peer-to-peer listener (dev mode and examples).</summary>
    public const int DefaultP2PPort = 15005;

    /// <summary>Where the HTTP API listens. Default <c>127.0.0.1:15002</c>.</summary>
    [Required]
    public ListenOptions Listen { get; set; } = new() { Port = DefaultPort };

    /// <summary>
    /// The cache root: blobs, their metadata and in-progress uploads live under it (created when
    /// missing). Required.
    /// </summary>
    [Required]
    public string DataDir { get; set; } = string.Empty;

    /// <summary>
    /// The store of record behind the cache: misses are fetched from it and uploads written to it.
    /// Default none: the local cache is the store of record and its blobs count as persisted.
    /// </summary>
    public BackendOptions? Backend { get; set; }

    /// <summary>The other origins this one shares blobs with. Default standalone.</summary>
    [Required]
    public OriginClusterOptions Cluster { get; set; } = new();

    /// <summary>
    /// How long a chunked upload session may live, counted from its start; older sessions are
    /// purged. Between 1 minute and 7 days. Default 1 hour.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan UploadSessionTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The peer-to-peer listener through which this origin seeds the blobs it owns to agents
    /// (advertised at <c>GET /v1/p2p</c>; the tracker hands it to the blob's swarm). Set it in any
    /// cluster with agents on a tracker (conventionally port 15005). Default none: HTTP only.
    /// </summary>
    public P2POptions? P2P { get; set; }

    /// <summary>How this origin trusts the other origins when it calls them (replication). Default the system trust store.</summary>
    public TlsClientOptions? ClientTls { get; set; }
}
