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

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
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
