using System.ComponentModel.DataAnnotations;
using Shoal.Hosting;
using Shoal.Storage;

namespace Shoal.BuildIndex;

/// <summary>
/// Configuration of build-index: per repository, tags (tag → manifest digest), manifest revisions
/// and blob links, kept on local disk or in the storage backends of <see cref="Backends"/>. Bound
/// from the <c>buildIndex</c> section.
/// </summary>
public sealed class BuildIndexOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string ConfigSection = "buildIndex";

    /// <summary>Default port of the HTTP API.</summary>
    public const int DefaultPort = 15004;

    /// <summary>Where the HTTP API listens. Default <c>127.0.0.1:15004</c>.</summary>
    [Required]
    public ListenOptions Listen { get; set; } = new() { Port = DefaultPort };

    /// <summary>
    /// Directory that holds the index (created when missing); every record is a small file under
    /// <c>repositories/</c>, written atomically. Required.
    /// </summary>
    [Required]
    public string DataDir { get; set; } = string.Empty;

    /// <summary>
    /// Where each repository's records live, by namespace (ordered rules, the first whose regular
    /// expression matches the whole repository name wins; the same shape as <c>origin:backends</c>).
    /// A storage backend (<c>filesystem</c>, <c>s3</c>, <c>gcs</c>, <c>hdfs</c>) holds the records
    /// itself, written before a write is acknowledged and named by the backend's <c>layout</c>:
    /// <c>shoal</c> (<c>repositories/&lt;name&gt;/_tags/&lt;tag&gt;</c>, <c>_manifests/sha256/&lt;hex&gt;</c>,
    /// <c>_blobs/sha256/&lt;hex&gt;</c>) or <c>distribution</c> (a Docker registry's own tag, revision and
    /// layer links, so a registry on the same storage shares them). A <c>registry</c> backend holds
    /// no records of Shoal's: a local miss is answered from it (a tag is resolved with
    /// <c>HEAD /v2/&lt;name&gt;/manifests/&lt;tag&gt;</c>, a manifest record with a HEAD by digest, the tag
    /// list merges the registry's tags with the local ones; tags written through build-index's API
    /// take precedence), and its repositories' records stay in <see cref="DataDir"/>, as do those of
    /// repositories no rule matches. <c>http</c> backends cannot list, so they cannot hold tags.
    /// Default empty: every record is local.
    /// </summary>
    public List<BackendRouteOptions> Backends { get; set; } = [];

    /// <summary>
    /// How long a tag resolved from an upstream registry, or read from a storage backend of
    /// <see cref="Backends"/>, is answered without asking again (other writers move tags: a tag
    /// pushed to the registry, or through another build-index on the same storage, shows through at
    /// most this late; this build-index's own writes show at once). Zero asks every time. Between 0
    /// and 1 hour. Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan UpstreamTagTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Base URLs of this cluster's origins, from which replication reads the manifests and blobs a
    /// tag needs. Required when <see cref="Replication"/> has rules; default none.
    /// </summary>
    public List<string> Origins { get; set; } = [];

    /// <summary>How many origins own each blob in this cluster (the origins' own setting). Default 2.</summary>
    [Range(1, 16)]
    public int Replicas { get; set; } = 2;

    /// <summary>
    /// Tag replication to other clusters: ordered rules, each a repository expression and a remote
    /// cluster; every rule that matches a tag's repository gets the tag (so one tag may go to several
    /// clusters). A tag written through this build-index's API (a push through the proxy) is queued
    /// durably for each matching remote before the write is acknowledged, and copied in the
    /// background: the blobs and manifests it needs into the remote origins (those already there are
    /// skipped), then the records and the tag into the remote build-index, which does not replicate it
    /// further. Failed copies are retried with backoff (see <see cref="ReplicationRetryMax"/>); when a
    /// tag moves before its copy ran, only the newest digest is copied. Default none.
    /// </summary>
    public List<ReplicationRuleOptions> Replication { get; set; } = [];

    /// <summary>The longest wait between two attempts of a failing replication (the wait doubles from 1 second). Default 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ReplicationRetryMax { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How the HTTP clients of replication trust this cluster's origins and the remote clusters. Default: the system store.</summary>
    public TlsClientOptions? ClientTls { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Replication.Count > 0 && Origins.Count == 0)
        {
            yield return new ValidationResult("replication needs this cluster's origins (buildIndex:origins) to read what a tag needs", [nameof(Origins)]);
        }
        for (var i = 0; i < Origins.Count; i++)
        {
            if (Shoal.Clients.ServiceEndpoint.ParseError(Origins[i]) is { } originError)
            {
                yield return new ValidationResult(originError, [$"{nameof(Origins)}:{i}"]);
            }
        }
        for (var i = 0; i < Backends.Count; i++)
        {
            if (string.Equals(Backends[i].Backend?.Type, BackendOptions.HttpType, StringComparison.OrdinalIgnoreCase))
            {
                yield return new ValidationResult(
                    $"backends:{i}: an {BackendOptions.HttpType} backend cannot hold tags (HTTP has no listing); use a filesystem, s3, gcs or hdfs backend, or a registry",
                    [nameof(Backends)]);
            }
        }
    }
}
