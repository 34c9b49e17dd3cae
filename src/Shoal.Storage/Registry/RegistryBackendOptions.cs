using System.ComponentModel.DataAnnotations;

namespace Shoal.Storage.Registry;

/// <summary>
/// A Docker Registry V2 / OCI distribution registry (distribution, Harbor, Docker Hub, ECR, …) as
/// a backend (<c>backend: { type: registry, registry: { … } }</c>) and as a tag source, e.g.
/// <code>
/// backend:
///   type: registry
///   registry:
///     address: https://registry.example.com
///     username: shoal
///     passwordFile: /etc/shoal/registry-password
/// </code>
/// </summary>
/// <remarks>
/// Docker Hub: the addresses <c>docker.io</c> and <c>index.docker.io</c> (with or without
/// <c>https://</c>) mean <c>https://registry-1.docker.io</c>, and one-segment repository names get
/// the <c>library/</c> prefix (<c>alpine</c> → <c>library/alpine</c>), as the Docker client does.
/// </remarks>
public sealed class RegistryBackendOptions : IValidatableObject
{
    /// <summary>Default <see cref="Timeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Default <see cref="ChunkSize"/>: 16 MiB.</summary>
    public const long DefaultChunkSize = 16L * 1024 * 1024;

    /// <summary>
    /// The registry's base URL (<c>https://registry.example.com</c>; a path prefix is kept, <c>/v2/</c>
    /// is appended). <c>docker.io</c> means Docker Hub. Required.
    /// </summary>
    [Required]
    public string Address { get; set; } = string.Empty;

    /// <summary>User name for basic authentication and for token requests. Default none (anonymous).</summary>
    public string? Username { get; set; }

    /// <summary>Password of <see cref="Username"/>. Prefer <see cref="PasswordFile"/>. Default none.</summary>
    public string? Password { get; set; }

    /// <summary>A file holding the password (surrounding whitespace is trimmed), read at start. Default none.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>Skips the registry's TLS certificate checks (testing only). Default false.</summary>
    public bool InsecureSkipVerify { get; set; }

    /// <summary>A PEM file of extra CA certificates to trust for the registry and its token service. Default none (system store).</summary>
    public string? CaCertificate { get; set; }

    /// <summary>
    /// How long a request may wait for the registry's answer (connect and response headers; the
    /// whole body of small answers such as tokens, manifests and tag lists; idle time while a blob
    /// is uploaded). Blob downloads stream without a time limit. Default 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Timeout { get; set; } = DefaultTimeout;

    /// <summary>Whether blobs may be uploaded to and deleted from the registry. Default false (read-only).</summary>
    public bool Writable { get; set; }

    /// <summary>
    /// Uploads up to this size are one monolithic PUT; larger ones are sent as PATCH chunks of this
    /// size, in bytes. Default 16 MiB; 64 KiB to 1 GiB.
    /// </summary>
    [Range(64L * 1024, 1024L * 1024 * 1024)]
    public long ChunkSize { get; set; } = DefaultChunkSize;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Address) && !Internal.RegistryAddress.TryParse(Address, out _, out var error))
        {
            yield return new ValidationResult(error, [nameof(Address)]);
        }
        if (!string.IsNullOrEmpty(Password) && !string.IsNullOrEmpty(PasswordFile))
        {
            yield return new ValidationResult("set password or passwordFile, not both", [nameof(PasswordFile)]);
        }
        if (string.IsNullOrEmpty(Username) && (!string.IsNullOrEmpty(Password) || !string.IsNullOrEmpty(PasswordFile)))
        {
            yield return new ValidationResult("a password needs a username", [nameof(Username)]);
        }
        if (!string.IsNullOrEmpty(PasswordFile) && !File.Exists(PasswordFile))
        {
            yield return new ValidationResult($"password file '{PasswordFile}' does not exist", [nameof(PasswordFile)]);
        }
        if (!string.IsNullOrEmpty(CaCertificate) && !File.Exists(CaCertificate))
        {
            yield return new ValidationResult($"CA certificate file '{CaCertificate}' does not exist", [nameof(CaCertificate)]);
        }
    }
}
