using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
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
    /// Tokens (personal access tokens) accepted on the preheat endpoints (<c>/registry/notifications</c>,
    /// <c>/oapi/v1/jobs</c>, <c>/preheats</c>, <c>/v1/preheat/jobs</c>), each either a plain string or
    /// <c>{token, scopes}</c>. A token is read from <c>Authorization: Bearer</c>, the <c>access_token</c>
    /// query parameter, either half of HTTP basic auth, or the value of any header. A token without
    /// scopes (a plain string) grants every scope, as a Dragonfly token with an empty scope list does.
    /// Default: none, meaning the endpoints are open (keep the proxy on a trusted network then).
    /// </summary>
    public List<PreheatToken> Tokens { get; set; } = [];

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
    /// The agents that scope <c>all_peers</c> asks to preload the image through <c>POST /v1/preload</c>:
    /// base URLs (e.g. <c>http://node-1:16000</c>) and DNS names resolved again for every job to every
    /// address they carry (<c>dns+http://shoal-agent.kube-system.svc.cluster.local:16000</c>, e.g. a
    /// Kubernetes headless Service; the port defaults to 16000). Default: none.
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
            if (Preheat.AgentDirectory.Error(Agents[i]) is { } error)
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
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Tokens.Count; i++)
        {
            if (Tokens[i] is { Token.Length: > 0 } token && !tokens.Add(token.Token))
            {
                yield return new ValidationResult($"tokens[{i}]: the same token is listed twice", [nameof(Tokens)]);
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

/// <summary>
/// A token accepted on the preheat endpoints (<c>proxy:preheat:tokens[i]</c>): a plain string (every
/// scope) or <c>{token, scopes}</c>.
/// </summary>
[TypeConverter(typeof(PreheatTokenConverter))]
public sealed class PreheatToken : IValidatableObject
{
    /// <summary>The secret, at least 8 characters. Required.</summary>
    [Required]
    public string Token { get; set; } = string.Empty;

    /// <summary>
    /// What the token may do: <c>job</c> (Dragonfly's <c>/oapi/v1/jobs</c>, the older <c>/preheats</c>
    /// and Shoal's <c>/v1/preheat/jobs</c>), <c>notification</c> (<c>/registry/notifications</c>);
    /// <c>cluster</c> (a Dragonfly scope) is accepted and grants nothing here. Default: empty, meaning
    /// every scope.
    /// </summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>A token with every scope.</summary>
    public static PreheatToken FromString(string token) => new() { Token = token };

    /// <summary>Whether the token may use endpoints of <paramref name="scope"/>.</summary>
    public bool Grants(string scope) => Scopes.Count == 0 || Scopes.Contains(scope, StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(Token) && (string.IsNullOrWhiteSpace(Token) || Token.Length < 8))
        {
            yield return new ValidationResult("a token must have at least 8 characters", [nameof(Token)]);
        }
        for (var i = 0; i < Scopes.Count; i++)
        {
            if (!Preheat.TokenScope.IsKnown(Scopes[i]))
            {
                yield return new ValidationResult($"scopes[{i}]: '{Scopes[i]}' is not {string.Join(", ", Preheat.TokenScope.All)}", [nameof(Scopes)]);
            }
        }
    }

    /// <summary>Never the secret itself.</summary>
    public override string ToString() => Scopes.Count == 0 ? "token (every scope)" : $"token ({string.Join(", ", Scopes)})";
}

/// <summary>Binds a plain string in <c>proxy:preheat:tokens</c> to a <see cref="PreheatToken"/> with every scope.</summary>
public sealed class PreheatTokenConverter : TypeConverter
{
    /// <inheritdoc />
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType)
        => sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    /// <inheritdoc />
    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value)
        => value is string token ? PreheatToken.FromString(token) : base.ConvertFrom(context, culture, value);
}
