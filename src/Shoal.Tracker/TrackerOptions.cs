using System.ComponentModel.DataAnnotations;
using Shoal.Clients;
using Shoal.Hosting;
using Shoal.Tracker.Internal;

namespace Shoal.Tracker;

/// <summary>
/// Configuration of the tracker: which peers hold which blob (swarms keyed by info hash), and the
/// blobs' metainfo, fetched from the origins. Bound from the <c>tracker</c> section.
/// </summary>
public sealed class TrackerOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string ConfigSection = "tracker";

    /// <summary>Default port of the HTTP API.</summary>
    public const int DefaultPort = 15003;

    /// <summary>Where the HTTP API listens. Default <c>127.0.0.1:15003</c>.</summary>
    [Required]
    public ListenOptions Listen { get; set; } = new() { Port = DefaultPort };

    /// <summary>Base URLs of every origin of the cluster (at least one), asked for metainfo, e.g. <c>http://origin-1:15002</c>. Required.</summary>
    [Required]
    [MinLength(1)]
    public List<string> Origins { get; set; } = [];

    /// <summary>How many origins own each blob (must match the origins' own setting). Default 2.</summary>
    [Range(1, 16)]
    public int Replicas { get; set; } = 2;

    /// <summary>How often peers still downloading are told to announce again (they learn new peers from it). Default 3 seconds.</summary>
    public TimeSpan AnnounceInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How often peers that hold the whole blob are told to announce again. A seeder learns nothing
    /// from an announce (downloaders dial it); it only has to stay within <see cref="PeerTtl"/>, and a
    /// node seeds every layer it pulled lately, so seeders announcing as often as downloaders would
    /// multiply the tracker's load by the layers per node. Must be shorter than <see cref="PeerTtl"/>.
    /// Default none: a third of <see cref="PeerTtl"/>, never less than <see cref="AnnounceInterval"/>
    /// (10 seconds with the defaults).
    /// </summary>
    public TimeSpan? SeederAnnounceInterval { get; set; }

    /// <summary>The interval complete peers are handed: <see cref="SeederAnnounceInterval"/> or its default.</summary>
    internal TimeSpan EffectiveSeederAnnounceInterval
        => SeederAnnounceInterval ?? (PeerTtl / 3 > AnnounceInterval ? PeerTtl / 3 : AnnounceInterval);

    /// <summary>
    /// How long a peer stays in a swarm without announcing again; must exceed
    /// <see cref="AnnounceInterval"/>. A swarm with no peer left is dropped. Default 30 seconds.
    /// </summary>
    public TimeSpan PeerTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>At most this many swarm peers are handed out per announce (configured origin peers come on top). Default 50.</summary>
    [Range(1, 10_000)]
    public int MaxPeersPerAnnounce { get; set; } = 50;

    /// <summary>At most this many peers are kept per swarm; when it is full the peer that announced longest ago makes room. Default 10,000.</summary>
    [Range(1, 1_000_000)]
    public int MaxPeersPerSwarm { get; set; } = 10_000;

    /// <summary>
    /// Fixed peer-to-peer addresses (<c>host:port</c>, <c>[v6]:port</c>) handed out in every announce
    /// answer as origin peers, on top of the blob's owning origins (which the tracker learns from
    /// each origin's <c>GET /v1/p2p</c>). Rarely needed; default none.
    /// </summary>
    public List<string> OriginPeers { get; set; } = [];

    /// <summary>
    /// Memory for cached metainfo (which never changes for a digest), least recently used evicted
    /// first, in bytes of its JSON form (up to ~45 KB per blob); 0 disables caching. Default 64 MiB.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MetaInfoCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long a metainfo request waits for the origins before answering 503. Default 10 seconds.</summary>
    public TimeSpan OriginTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How the tracker's HTTP client trusts the origins. Default: the system store.</summary>
    public TlsClientOptions? ClientTls { get; set; }

    /// <summary>
    /// A Redis that holds the swarms, shared by several trackers behind one address (a load
    /// balancer, a Kubernetes Service): an agent's announce to any of them is seen by all. Default
    /// none: swarms in this tracker's memory.
    /// </summary>
    public RedisPeerStoreOptions? Redis { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Origins.Count; i++)
        {
            string? error = null;
            try
            {
                ServiceEndpoint.Parse(Origins[i] ?? string.Empty);
            }
            catch (FormatException ex)
            {
                error = ex.Message;
            }
            if (error is not null)
            {
                yield return new ValidationResult($"entry {i}: {error}", [nameof(Origins)]);
            }
        }
        for (var i = 0; i < OriginPeers.Count; i++)
        {
            if (!OriginPeer.TryParse(OriginPeers[i], out _, out var error))
            {
                yield return new ValidationResult($"entry {i}: {error}", [nameof(OriginPeers)]);
            }
        }
        if (AnnounceInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult("must be positive", [nameof(AnnounceInterval)]);
        }
        if (PeerTtl <= AnnounceInterval)
        {
            yield return new ValidationResult($"must be longer than announceInterval ({AnnounceInterval}), or peers expire between announces", [nameof(PeerTtl)]);
        }
        if (SeederAnnounceInterval is { } seeder && (seeder <= TimeSpan.Zero || seeder >= PeerTtl))
        {
            yield return new ValidationResult($"must be positive and shorter than peerTtl ({PeerTtl}), or seeders expire between announces", [nameof(SeederAnnounceInterval)]);
        }
        if (OriginTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("must be positive", [nameof(OriginTimeout)]);
        }
    }
}

/// <summary>Where the tracker keeps swarms in Redis (<c>tracker:redis</c>).</summary>
public sealed class RedisPeerStoreOptions : IValidatableObject
{
    /// <summary>
    /// The StackExchange.Redis configuration string: <c>host:port[,host:port...][,password=...][,ssl=true][,user=...]</c>,
    /// e.g. <c>redis:6379</c>. Required.
    /// </summary>
    [Required]
    public string Configuration { get; set; } = string.Empty;

    /// <summary>Prefix of every key the tracker writes (several clusters may share one Redis). Default <c>shoal:tracker:</c>.</summary>
    public string KeyPrefix { get; set; } = "shoal:tracker:";

    /// <summary>The parsed configuration; the tracker starts even while Redis is down, and keeps reconnecting.</summary>
    internal StackExchange.Redis.ConfigurationOptions ToConfiguration()
    {
        var configuration = StackExchange.Redis.ConfigurationOptions.Parse(Configuration);
        configuration.AbortOnConnectFail = false;
        return configuration;
    }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            yield break; // [Required] says so
        }
        string? error;
        try
        {
            error = ToConfiguration().EndPoints.Count == 0 ? $"'{Configuration}' names no Redis endpoint" : null;
        }
        catch (ArgumentException ex)
        {
            error = $"'{Configuration}' is not a Redis configuration string: {ex.Message}";
        }
        if (error is not null)
        {
            yield return new ValidationResult(error, [nameof(Configuration)]);
        }
    }
}
