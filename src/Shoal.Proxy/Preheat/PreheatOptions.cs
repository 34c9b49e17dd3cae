using System.ComponentModel.DataAnnotations;
using Shoal.Clients;

namespace Shoal.Proxy;

/// <summary>
/// Preheat: warming the origins (and optionally the agents) with an image before the first node
/// pulls it, triggered by registry notifications, Harbor's preheat providers ("kraken" and
/// "dragonfly") or <c>shoal preheat</c>. Bound from <c>proxy:preheat</c>.
/// </summary>
public sealed class PreheatOptions : IValidatableObject
{
    /// <summary>
    /// Registries the proxy may fetch manifests from, by base URL (scheme, host, port and optional
    /// path prefix). A manifest URL whose scheme, host and port match none of these is refused,
    /// so a caller cannot make the proxy fetch arbitrary URLs. Default: none (only images
    /// pushed to Shoal itself can be preheated).
    /// </summary>
    public List<PreheatUpstream> Upstreams { get; set; } = [];

    /// <summary>
    /// Bearer tokens (personal access tokens) accepted on the preheat endpoints
    /// (<c>/registry/notifications</c>, <c>/oapi/v1/jobs</c>, <c>/v1/preheat/jobs</c>). A token is
    /// also accepted as the password or user of HTTP basic auth, or as the value of any header.
    /// Default: none, meaning the endpoints are open (keep the proxy on a trusted network then).
    /// </summary>
    public List<string> Tokens { get; set; } = [];

    /// <summary>How many preheat jobs run at once. 1 to 64; default 4.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 4;

    /// <summary>
    /// How long one job may run before it fails, unless the request carries its own timeout.
    /// Between 10 seconds and 24 hours; default 30 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Platforms (<c>os/arch[/variant]</c>, e.g. <c>linux/amd64</c>) preheated from an index when the
    /// request names none. Default: empty, meaning every platform.
    /// </summary>
    public List<string> Platforms { get; set; } = [];

    /// <summary>
    /// Base URLs of the agents (e.g. <c>http://node-1:16000</c>) that scope <c>all_peers</c> asks to
    /// preload the image through <c>POST /v1/preload</c>. Default: none.
    /// </summary>
    public List<string> Agents { get; set; } = [];

    /// <summary>How many blobs of one job are warmed at once. 1 to 32; default 4.</summary>
    [Range(1, 32)]
    public int BlobConcurrency { get; set; } = 4;

    /// <summary>How long finished jobs are kept (on disk and in listings). Between 1 hour and 365 days; default 7 days.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Agents.Count; i++)
        {
            if (Preheat.UrlCheck.Error(Agents[i]) is { } error)
            {
                yield return new ValidationResult($"agents[{i}]: {error}", [nameof(Agents)]);
            }
        }
        for (var i = 0; i < Platforms.Count; i++)
        {
            if (!Preheat.PlatformFilter.IsValid(Platforms[i]))
            {
                yield return new ValidationResult($"platforms[{i}]: '{Platforms[i]}' is not os/arch[/variant]", [nameof(Platforms)]);
            }
        }
        for (var i = 0; i < Tokens.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Tokens[i]) || Tokens[i].Length < 8)
            {
                yield return new ValidationResult($"tokens[{i}]: a token must have at least 8 characters", [nameof(Tokens)]);
            }
        }
    }
}

/// <summary>A registry the proxy may fetch manifests from when preheating (<c>proxy:preheat:upstreams[i]</c>).</summary>
public sealed class PreheatUpstream : IValidatableObject
{
    /// <summary>Base URL, e.g. <c>https://harbor.example.com</c>. Required.</summary>
    [Required]
    public string Url { get; set; } = string.Empty;

    /// <summary>User for HTTP basic auth (or the token service) when the request carries no credentials. Default: none.</summary>
    public string? Username { get; set; }

    /// <summary>Password for <see cref="Username"/>. Default: none.</summary>
    public string? Password { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(Url) && Preheat.UrlCheck.Error(Url) is { } error)
        {
            yield return new ValidationResult(error, [nameof(Url)]);
        }
        if (Username is null != Password is null)
        {
            yield return new ValidationResult("username and password go together", [nameof(Username)]);
        }
    }
}
