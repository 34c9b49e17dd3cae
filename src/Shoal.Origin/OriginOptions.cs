using System.ComponentModel.DataAnnotations;
using Shoal.Hosting;
using Shoal.Hosting.Eviction;
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
    /// Shorthand for one catch-all rule (<c>namespace: ".*"</c>) of <see cref="Backends"/>: the
    /// store of record behind the cache. When <see cref="Backends"/> is set too, this rule is
    /// appended after its rules (the fallback for namespaces no rule matches). Its write mode is
    /// the default of its layout (<see cref="OriginBackendRouteOptions.WriteThrough"/>); write the
    /// rule in <see cref="Backends"/> to choose another. Default none.
    /// </summary>
    public BackendOptions? Backend { get; set; }

    /// <summary>
    /// The stores of record behind the cache, by namespace: ordered rules, the first whose regular
    /// expression matches the whole request namespace (the <c>namespace</c> query parameter; no
    /// namespace matches as the empty string) picks the backend that misses are fetched from and
    /// uploads written back to. A namespace no rule matches has no backend: its blobs live in the
    /// local cache only (and count as persisted). Each rule also sets whether uploads are written
    /// through to its backend or written back after the acknowledgement
    /// (<see cref="OriginBackendRouteOptions.WriteThrough"/>). Default empty.
    /// </summary>
    public List<OriginBackendRouteOptions> Backends { get; set; } = [];

    /// <summary>How uploads are written back to their backend and copied to the other owners.</summary>
    [Required]
    public OriginWriteBackOptions WriteBack { get; set; } = new();

    /// <summary>How cache misses are filled (from peer origins, then the backend).</summary>
    [Required]
    public OriginFetchOptions Fetch { get; set; } = new();

    /// <summary>When cached blobs are dropped to keep the cache within its capacity.</summary>
    [Required]
    public EvictionOptions Eviction { get; set; } = new();

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

    /// <summary>The effective routing rules: <see cref="Backends"/>, then <see cref="Backend"/> as a catch-all.</summary>
    internal IReadOnlyList<OriginBackendRouteOptions> EffectiveBackends()
    {
        var routes = new List<OriginBackendRouteOptions>(Backends);
        if (Backend is { } backend)
        {
            routes.Add(new OriginBackendRouteOptions { Namespace = ".*", Backend = backend });
        }
        return routes;
    }
}
