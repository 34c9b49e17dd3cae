using System.ComponentModel.DataAnnotations;

namespace Shoal.Storage.S3;

/// <summary>
/// Options of the <see cref="S3Backend"/> (<c>backend:s3</c>, used when <c>backend:type</c> is <c>s3</c>):
/// Amazon S3 or any S3-compatible store (MinIO, Ceph RGW, s3rver).
/// </summary>
public sealed class S3BackendOptions
{
    /// <summary>The bucket objects are stored in. Required.</summary>
    [Required]
    public string Bucket { get; set; } = string.Empty;

    /// <summary>The AWS region. Default <c>us-east-1</c>.</summary>
    [Required]
    public string Region { get; set; } = "us-east-1";

    /// <summary>
    /// The service URL of an S3-compatible store, e.g. <c>http://minio:9000</c>. Default: none (AWS S3
    /// of <see cref="Region"/>).
    /// </summary>
    [Url]
    public string? Endpoint { get; set; }

    /// <summary>Address buckets as <c>endpoint/bucket/key</c> rather than <c>bucket.endpoint/key</c>. Default false; true for MinIO and s3rver.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>The access key id. Default: none (the SDK's credential chain: environment, profile, instance role).</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The secret access key; needed together with <see cref="AccessKeyId"/>.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>
    /// Sign uploads with aws-chunked streaming signatures (every chunk signed, body not buffered).
    /// Default true; set false for S3-compatible stores that do not decode aws-chunked bodies
    /// (s3rver): uploads then send the plain body as <c>UNSIGNED-PAYLOAD</c> (use an https endpoint).
    /// </summary>
    public bool ChunkedEncoding { get; set; } = true;

    /// <summary>A key prefix every object name is stored under, e.g. <c>shoal/</c>. Default empty.</summary>
    public string Prefix { get; set; } = string.Empty;

    /// <summary>Uploads larger than this many bytes use multipart upload. Default 64 MiB.</summary>
    [Range(1, long.MaxValue)]
    public long MultipartThreshold { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The size of a multipart upload's parts, in bytes; one part is buffered at a time. Default 16 MiB.
    /// S3 needs at least 5 MiB for every part but the last one.
    /// </summary>
    [Range(1, 5L * 1024 * 1024 * 1024)]
    public long PartSize { get; set; } = 16L * 1024 * 1024;
}
