using System.ComponentModel.DataAnnotations;

namespace Shoal.Storage.Http;

/// <summary>
/// Options of the <see cref="HttpBackend"/> (<c>backend:http</c>, used when <c>backend:type</c> is
/// <c>http</c>): a plain HTTP file server or blob service addressed by URL templates.
/// </summary>
public sealed class HttpBackendOptions
{
    /// <summary>The URL an object is read from (GET, HEAD), with <c>{name}</c> for the object name, e.g. <c>https://files.example/shoal/{name}</c>. Required.</summary>
    [Required]
    public string DownloadUrl { get; set; } = string.Empty;

    /// <summary>The URL an object is written to, with <c>{name}</c>. Required.</summary>
    [Required]
    public string UploadUrl { get; set; } = string.Empty;

    /// <summary>The method uploads use: <c>PUT</c> or <c>POST</c>. Default <c>PUT</c>.</summary>
    [RegularExpression("^(?i:PUT|POST)$", ErrorMessage = "uploadMethod must be PUT or POST")]
    public string UploadMethod { get; set; } = "PUT";

    /// <summary>The URL a DELETE removes an object at, with <c>{name}</c>. Default: none (deletes are not supported).</summary>
    public string? DeleteUrl { get; set; }

    /// <summary>Headers sent with every request (e.g. <c>Authorization</c>). Default none.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long one request may take before the server's answer (headers) arrives, in seconds. Default 100.</summary>
    [Range(1, 86400)]
    public int TimeoutSeconds { get; set; } = 100;
}
