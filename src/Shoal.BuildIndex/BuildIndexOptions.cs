using System.ComponentModel.DataAnnotations;
using Shoal.Hosting;
using Shoal.Storage;

namespace Shoal.BuildIndex;

/// <summary>
/// Configuration of build-index: per repository, tags (tag → manifest digest), manifest revisions
/// and blob links, kept on local disk. Bound from the <c>buildIndex</c> section.
/// </summary>
public sealed class BuildIndexOptions
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
    /// Registries behind the index, by namespace (ordered rules, the first whose regular expression
    /// matches the whole repository name wins; the same shape as <c>origin:backends</c>). For a
    /// repository whose backend is a registry (<c>type: registry</c>), a local miss is answered from
    /// it: a tag is resolved with <c>HEAD /v2/&lt;name&gt;/manifests/&lt;tag&gt;</c>, a manifest record
    /// with a HEAD by digest, and the tag list merges the registry's tags with the local ones. Tags
    /// written through build-index's API take precedence. Rules with other backend types are ignored
    /// (they hold no tags). Default empty: the index answers from its own records only.
    /// </summary>
    public List<BackendRouteOptions> Backends { get; set; } = [];

    /// <summary>
    /// How long a tag resolved from an upstream registry is answered without asking the registry
    /// again (upstream tags move; a tag pushed to the registry shows through at most this late).
    /// Zero asks every time. Between 0 and 1 hour. Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan UpstreamTagTtl { get; set; } = TimeSpan.FromSeconds(30);
}
