using System.ComponentModel.DataAnnotations;
using Shoal.Hosting;

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
}
