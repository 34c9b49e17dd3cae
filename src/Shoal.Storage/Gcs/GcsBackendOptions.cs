using System.ComponentModel.DataAnnotations;

namespace Shoal.Storage.Gcs;

/// <summary>
/// Options of the <see cref="GcsBackend"/> (<c>backend:gcs</c>, used when <c>backend:type</c> is
/// <c>gcs</c>): Google Cloud Storage through its JSON API.
/// </summary>
public sealed class GcsBackendOptions
{
    /// <summary>The bucket objects are stored in. Required.</summary>
    [Required]
    public string Bucket { get; set; } = string.Empty;

    /// <summary>A prefix every object name is stored under, e.g. <c>shoal/</c>. Default empty.</summary>
    public string Prefix { get; set; } = string.Empty;

    /// <summary>
    /// A service-account JSON key file. Default: none (Application Default Credentials: the
    /// <c>GOOGLE_APPLICATION_CREDENTIALS</c> file, gcloud's login or the metadata server).
    /// </summary>
    public string? CredentialsFile { get; set; }

    /// <summary>
    /// The JSON API base URL of a GCS-compatible server or emulator, e.g. <c>http://gcs:4443/storage/v1/</c>.
    /// Default: none (Google's). With an endpoint and no <see cref="CredentialsFile"/> requests are unauthenticated.
    /// </summary>
    [Url]
    public string? Endpoint { get; set; }

    /// <summary>The size of a resumable upload's chunks, in bytes; one chunk is buffered at a time. Rounded up to 256 KiB. Default 8 MiB.</summary>
    [Range(256 * 1024, 1024 * 1024 * 1024)]
    public int ChunkSize { get; set; } = 8 * 1024 * 1024;
}
