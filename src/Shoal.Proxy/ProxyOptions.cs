using System.ComponentModel.DataAnnotations;
using Shoal.Clients;
using Shoal.Core.Registry;
using Shoal.Hosting;

namespace Shoal.Proxy;

/// <summary>
/// Configuration of the proxy: the registry API (push and pull) in front of the origin cluster
/// (blob bytes) and build-index (tags, manifest revisions, blob links). Bound from the
/// <c>proxy</c> section.
/// </summary>
public sealed class ProxyOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string ConfigSection = "proxy";

    /// <summary>Default port of the registry API.</summary>
    public const int DefaultPort = 15000;

    /// <summary>Where the registry API listens. Default <c>127.0.0.1:15000</c>.</summary>
    [Required]
    public ListenOptions Listen { get; set; } = new() { Port = DefaultPort };

    /// <summary>
    /// Directory of the upload sessions (<c>uploads/&lt;id&gt;/</c>), created when missing. Blobs are
    /// staged here until their digest is verified and they are stored in the origins. Required.
    /// </summary>
    [Required]
    public string DataDir { get; set; } = string.Empty;

    /// <summary>Base URLs of every origin of the cluster (at least one), e.g. <c>http://origin-1:15002</c>. Required.</summary>
    [Required]
    [MinLength(1)]
    public List<string> Origins { get; set; } = [];

    /// <summary>How many origins own each blob (must match the origins' own setting). 1 to 16; default 2.</summary>
    [Range(1, 16)]
    public int Replicas { get; set; } = 2;

    /// <summary>Base URL of build-index, e.g. <c>http://build-index:15004</c>. Required.</summary>
    [Required]
    public string BuildIndex { get; set; } = string.Empty;

    /// <summary>
    /// Largest manifest accepted by a push, in bytes; bigger ones are refused with 413. Between
    /// 1 KiB and 64 MiB; default 4 MiB (what distribution and the OCI spec recommend).
    /// </summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxManifestSize { get; set; } = ManifestDocument.MaxSize;

    /// <summary>
    /// How long an upload session may live, counted from its start; older sessions are purged.
    /// Between 1 minute and 7 days; default 1 hour.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan UploadSessionTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Preheat: notifications, Harbor preheat providers and preheat jobs (<c>proxy:preheat</c>). Default: no upstreams, no tokens.</summary>
    [Required]
    public PreheatOptions Preheat { get; set; } = new();

    /// <summary>How the proxy's HTTP clients trust the origins and build-index. Default: the system store.</summary>
    public TlsClientOptions? ClientTls { get; set; }

    /// <summary>
    /// How long a read from an origin (a blob or manifest HEAD or GET) may wait for that origin to
    /// start answering before the proxy tries the blob's next owner: an origin that accepts
    /// connections and then hangs does not hold the client. The transfer itself is not bounded by
    /// it; uploads are not bounded (an origin answers them after storing the bytes). Between 1
    /// second and 10 minutes. Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan OriginTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(BuildIndex) && ServiceEndpoint.ParseError(BuildIndex) is { } buildIndexError)
        {
            yield return new ValidationResult(buildIndexError, [nameof(BuildIndex)]);
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Origins.Count; i++)
        {
            if (ServiceEndpoint.ParseError(Origins[i]) is { } originError)
            {
                yield return new ValidationResult($"origins[{i}]: {originError}", [nameof(Origins)]);
            }
            else if (!seen.Add(ServiceEndpoint.Parse(Origins[i]).AbsoluteUri))
            {
                yield return new ValidationResult($"origins[{i}]: '{Origins[i]}' is listed twice", [nameof(Origins)]);
            }
        }
    }
}
