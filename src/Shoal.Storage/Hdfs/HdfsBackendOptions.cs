using System.ComponentModel.DataAnnotations;

namespace Shoal.Storage.Hdfs;

/// <summary>
/// Options of the <see cref="HdfsBackend"/> (<c>backend:hdfs</c>, used when <c>backend:type</c> is
/// <c>hdfs</c>): HDFS over its WebHDFS REST API.
/// </summary>
public sealed class HdfsBackendOptions
{
    /// <summary>
    /// The name nodes' WebHDFS base URLs, e.g. <c>http://nn1:9870</c>, tried in order: a name node
    /// that cannot be reached, fails (5xx) or is in standby moves on to the next. At least one is required.
    /// </summary>
    [Required]
    [MinLength(1)]
    public List<string> NameNodes { get; set; } = [];

    /// <summary>The HDFS user requests act as (<c>user.name</c>, simple authentication). Default: none (the server's default user).</summary>
    public string? User { get; set; }

    /// <summary>The HDFS directory objects are stored under. Default <c>/shoal</c>.</summary>
    [Required]
    public string RootPath { get; set; } = "/shoal";

    /// <summary>The buffer size, in bytes, for streaming and the WebHDFS <c>buffersize</c> parameter. Default 1 MiB.</summary>
    [Range(4096, 64 * 1024 * 1024)]
    public int BufferSize { get; set; } = 1024 * 1024;

    /// <summary>How long one request may wait for its answer (headers), in seconds. Default 100.</summary>
    [Range(1, 86400)]
    public int TimeoutSeconds { get; set; } = 100;
}
