using System.ComponentModel.DataAnnotations;
using Shoal.Clients;
using Shoal.Hosting;
using Shoal.Hosting.Eviction;
using Shoal.P2P;

namespace Shoal.Agent;

/// <summary>
/// Configuration of an agent: the pull-only registry endpoint on every node, which the node's
/// container runtime uses as a mirror. Bound from the <c>agent</c> section.
/// </summary>
public sealed class AgentOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string ConfigSection = "agent";

    /// <summary>Default port of the registry endpoint.</summary>
    public const int DefaultPort = 16000;

    /// <summary>Default port of the peer-to-peer listener.</summary>
    public const int DefaultP2PPort = 16001;

    /// <summary>Where the registry endpoint listens. Default <c>127.0.0.1:16000</c>.</summary>
    [Required]
    public ListenOptions Listen { get; set; } = new() { Port = DefaultPort };

    /// <summary>
    /// Directory of the agent's blob cache (a content-addressed store; blobs appear only once
    /// verified). Required.
    /// </summary>
    [Required]
    public string DataDir { get; set; } = string.Empty;

    /// <summary>Base URL of build-index (tags and manifest records), e.g. <c>http://build-index:15004</c>. Required.</summary>
    [Required]
    public string BuildIndex { get; set; } = string.Empty;

    /// <summary>Base URLs of every origin of the cluster (at least one), e.g. <c>http://origin-1:15002</c>. Required.</summary>
    [Required]
    [MinLength(1)]
    public List<string> Origins { get; set; } = [];

    /// <summary>How many origins own each blob (must match the origins' own setting). Default 2.</summary>
    [Range(1, 16)]
    public int Replicas { get; set; } = 2;

    /// <summary>
    /// Base URL of the tracker. When set, blobs come through the peer-to-peer swarm (streamed to the
    /// runtime as verified pieces arrive) and the agent seeds what it holds; when unset, blobs are
    /// fetched whole from the origins over HTTP (small setups, tests). Default none.
    /// </summary>
    public string? Tracker { get; set; }

    /// <summary>
    /// With a tracker: when the tracker cannot be reached, fails or does not answer in time, fetch
    /// blobs whole from their owning origins over HTTP (verified like any download) instead of
    /// answering 503. After a tracker failure the agent leaves the tracker alone for 10 s. Set it to
    /// false to answer 503 instead, so that the runtime falls back to its next mirror or the
    /// registry. Default true.
    /// </summary>
    public bool OriginFallback { get; set; } = true;

    /// <summary>
    /// The peer-to-peer listener, limits and timers, used when <see cref="Tracker"/> is set. Default:
    /// <c>127.0.0.1:16001</c>, 10 connections per blob, 200 in all, 16 upload slots, no bandwidth limits.
    /// </summary>
    [Required]
    public P2POptions P2P { get; set; } = new() { Listen = new() { Port = DefaultP2PPort } };

    /// <summary>
    /// How long the agent waits for an upstream (build-index or an origin) to answer a request, or
    /// to send the next bytes of a blob transfer, before it gives up on it (and tries the next
    /// origin). Default 15 seconds.
    /// </summary>
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a pull waits while the origins fetch a blob they do not hold yet from their backend
    /// (the tracker answers 202 Accepted meanwhile, and the agent asks again as it says). Then the
    /// pull is answered 503. 1 second to 1 day; default 15 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ColdBlobTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// When blobs leave the node's cache: those not read for <c>timeToIdle</c> (default 6 hours, as
    /// Dragonfly's task expiry; 0 keeps them), and the least recently read once the cache's bytes pass
    /// <c>highWatermark</c> × <c>capacity</c> (default capacity 0: no limit; set it from the disk you
    /// give the agent), down to <c>lowWatermark</c> × <c>capacity</c>. An evicted blob is fetched again
    /// on its next pull; a download in progress, and a blob being served or seeded, is never cut short.
    /// </summary>
    [Required]
    public EvictionOptions Eviction { get; set; } = new() { TimeToIdle = TimeSpan.FromHours(6) };

    /// <summary>How the agent's HTTP clients trust the build-index, origins and tracker. Default: the system store.</summary>
    public TlsClientOptions? ClientTls { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(BuildIndex) && ServiceEndpoint.ParseError(BuildIndex) is { } buildIndexError)
        {
            yield return new ValidationResult(buildIndexError, [nameof(BuildIndex)]);
        }
        for (var i = 0; i < Origins.Count; i++)
        {
            if (ServiceEndpoint.ParseError(Origins[i]) is { } originError)
            {
                yield return new ValidationResult($"origins[{i}]: {originError}", [nameof(Origins)]);
            }
        }
        if (!string.IsNullOrEmpty(Tracker) && ServiceEndpoint.ParseError(Tracker) is { } trackerError)
        {
            yield return new ValidationResult(trackerError, [nameof(Tracker)]);
        }
        if (UpstreamTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("must be positive", [nameof(UpstreamTimeout)]);
        }
    }
}
