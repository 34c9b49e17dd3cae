using System.ComponentModel.DataAnnotations;
using Shoal.Storage.Registry;

namespace Shoal.Storage;

/// <summary>
/// Which backend a component stores its objects in, as configured, e.g.
/// <code>
/// backend:
///   type: filesystem
///   root: /var/lib/shoal/backend
/// </code>
/// Build one with <see cref="BackendFactory.Create"/>.
/// </summary>
public sealed class BackendOptions : IValidatableObject
{
    /// <summary>The <see cref="FileSystemBackend"/> type name.</summary>
    public const string FileSystem = "filesystem";

    /// <summary>The backend type. Supported: <c>filesystem</c>, <c>registry</c>, <c>s3</c>, <c>gcs</c>, <c>hdfs</c>, <c>http</c>. Required.</summary>
    [Required]
    public string Type { get; set; } = string.Empty;

    /// <summary>For <c>filesystem</c>: the directory objects are stored under (created when missing). Required for that type.</summary>
    public string? Root { get; set; }

    /// <summary>The <see cref="RegistryBackend"/> type name.</summary>
    public const string RegistryType = "registry";

    /// <summary>For <c>registry</c>: the Docker Registry V2 / OCI registry (address, credentials, TLS). Required for that type.</summary>
    public RegistryBackendOptions? Registry { get; set; }

    /// <summary>The <see cref="S3.S3Backend"/> type name (Amazon S3 and S3-compatible stores).</summary>
    public const string S3Type = "s3";

    /// <summary>The <see cref="Gcs.GcsBackend"/> type name (Google Cloud Storage).</summary>
    public const string GcsType = "gcs";

    /// <summary>The <see cref="Hdfs.HdfsBackend"/> type name (HDFS over WebHDFS).</summary>
    public const string HdfsType = "hdfs";

    /// <summary>The <see cref="Http.HttpBackend"/> type name (a plain HTTP server).</summary>
    public const string HttpType = "http";

    /// <summary>For <c>s3</c>: bucket, region, endpoint, credentials, multipart sizes. Required for that type.</summary>
    public S3.S3BackendOptions? S3 { get; set; }

    /// <summary>For <c>gcs</c>: bucket, prefix, credentials, endpoint. Required for that type.</summary>
    public Gcs.GcsBackendOptions? Gcs { get; set; }

    /// <summary>For <c>hdfs</c>: name nodes, user, root path. Required for that type.</summary>
    public Hdfs.HdfsBackendOptions? Hdfs { get; set; }

    /// <summary>For <c>http</c>: download/upload/delete URL templates, headers. Required for that type.</summary>
    public Http.HttpBackendOptions? Http { get; set; }

    /// <summary>Optional bandwidth limits for any backend type. Default: unlimited.</summary>
    public BandwidthOptions? Bandwidth { get; set; }

    /// <summary>The <see cref="Layout"/> that stores objects under their canonical names (<c>blobs/sha256/&lt;hex&gt;</c>).</summary>
    public const string ShoalLayout = "shoal";

    /// <summary>The <see cref="Layout"/> of a Docker registry's storage driver (<see cref="DistributionLayout"/>).</summary>
    public const string DistributionLayoutName = "distribution";

    /// <summary>
    /// How object names map onto the backend, for any type but <c>registry</c>: <c>shoal</c> stores
    /// blobs as <c>blobs/sha256/&lt;hex&gt;</c>; <c>distribution</c> uses the storage layout of a
    /// Docker registry (CNCF distribution) whose storage root is this backend's root, blob data at
    /// <c>docker/registry/v2/blobs/sha256/&lt;first two hex&gt;/&lt;hex&gt;/data</c>, so that the registry
    /// and Shoal share one storage. Default <c>shoal</c>.
    /// </summary>
    public string Layout { get; set; } = ShoalLayout;

    /// <summary>True when <see cref="Layout"/> is <c>distribution</c>.</summary>
    public bool IsDistributionLayout => string.Equals(Layout, DistributionLayoutName, StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <see cref="Type"/> is <c>registry</c>.</summary>
    public bool IsRegistry => string.Equals(Type, RegistryType, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(Type))
        {
            yield break; // [Required] already reports it.
        }
        if (LayoutError() is { } layoutError)
        {
            yield return new ValidationResult(layoutError, [nameof(Layout)]);
        }
        foreach (var (type, section, member) in new (string, object?, string)[]
        {
            (S3Type, S3, nameof(S3)), (GcsType, Gcs, nameof(Gcs)), (HdfsType, Hdfs, nameof(Hdfs)), (HttpType, Http, nameof(Http)),
        })
        {
            if (string.Equals(Type, type, StringComparison.OrdinalIgnoreCase))
            {
                if (section is null)
                {
                    yield return new ValidationResult($"a {type} backend needs a '{type}' section", [member]);
                }
                yield break; // The section validates itself (backend:<type>:…).
            }
        }
        if (string.Equals(Type, RegistryType, StringComparison.OrdinalIgnoreCase))
        {
            if (Registry is null)
            {
                yield return new ValidationResult($"a {RegistryType} backend needs a '{RegistryType}' section with its address", [nameof(Registry)]);
            }
            yield break; // The section validates itself (backend:registry:…).
        }
        if (!string.Equals(Type, FileSystem, StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult($"unknown backend type '{Type}'; supported: {FileSystem}, {RegistryType}, {S3Type}, {GcsType}, {HdfsType}, {HttpType}", [nameof(Type)]);
            yield break;
        }
        if (string.IsNullOrWhiteSpace(Root))
        {
            yield return new ValidationResult($"a {FileSystem} backend needs a root directory", [nameof(Root)]);
        }
    }

    /// <summary>Why <see cref="Layout"/> is unusable with <see cref="Type"/>, or null when it is fine.</summary>
    internal string? LayoutError()
    {
        if (!string.Equals(Layout, ShoalLayout, StringComparison.OrdinalIgnoreCase) && !IsDistributionLayout)
        {
            return $"unknown layout '{Layout}'; supported: {ShoalLayout}, {DistributionLayoutName}";
        }
        if (IsDistributionLayout && IsRegistry)
        {
            return $"layout '{DistributionLayoutName}' does not apply to a {RegistryType} backend: a registry stores blobs behind its own API, not under names; set the layout on a filesystem, s3, gcs, hdfs or http backend that holds the registry's storage";
        }
        return null;
    }
}
