using System.Security.Cryptography;
using System.Text;

namespace Shoal.Proxy.Preheat;

/// <summary>Checks of base URLs in the preheat options.</summary>
internal static class UrlCheck
{
    /// <summary>Null when <paramref name="url"/> is an absolute http(s) URL without query or credentials; else why not.</summary>
    public static string? Error(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return $"'{url}' is not an absolute http:// or https:// URL";
        }
        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            return $"'{url}' must not carry credentials, a query or a fragment";
        }
        return null;
    }
}

/// <summary>The pull token a preheat request carries (Harbor's short-lived registry JWT).</summary>
internal static class PullToken
{
    /// <summary>
    /// The expiry (<c>exp</c> claim) of a JWT bearer in the <c>Authorization</c> header; null when there is
    /// none or it is not a readable JWT. Read only to explain a failure early: the registry checks the signature.
    /// </summary>
    public static DateTimeOffset? ExpiredAt(IReadOnlyDictionary<string, string> headers)
    {
        var value = headers.FirstOrDefault(h => h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase)).Value;
        if (value is null || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var parts = value[7..].Trim().Split('.');
        if (parts.Length != 3 || parts[1].Length is 0 or > 8192)
        {
            return null;
        }
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var json = System.Text.Json.JsonDocument.Parse(Convert.FromBase64String(payload));
            return json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && json.RootElement.TryGetProperty("exp", out var exp)
                && exp.ValueKind == System.Text.Json.JsonValueKind.Number
                && exp.TryGetInt64(out var seconds)
                && seconds is > 0 and < 253402300800
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

/// <summary>Platform filters (<c>os/arch[/variant]</c>) of index preheats.</summary>
internal static class PlatformFilter
{
    public static bool IsValid(string? platform)
    {
        if (string.IsNullOrWhiteSpace(platform))
        {
            return false;
        }
        var parts = platform.Split('/');
        return parts.Length is 2 or 3 && parts.All(p => p.Length is > 0 and <= 64 && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
    }

    /// <summary>Whether <paramref name="platform"/> (from an index) is selected; an empty filter selects all.</summary>
    public static bool Matches(IReadOnlyList<string> filter, Core.Registry.Platform? platform)
    {
        if (filter.Count == 0)
        {
            return true;
        }
        if (platform is null)
        {
            return false;
        }
        foreach (var wanted in filter)
        {
            var parts = wanted.Split('/');
            if (string.Equals(parts[0], platform.Os, StringComparison.OrdinalIgnoreCase)
                && string.Equals(parts[1], platform.Architecture, StringComparison.OrdinalIgnoreCase)
                && (parts.Length < 3 || string.Equals(parts[2], platform.Variant, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>Preheat scopes, named as Dragonfly and Harbor name them.</summary>
internal static class PreheatScope
{
    /// <summary>One origin (the first owner of each blob) caches it.</summary>
    public const string SingleSeedPeer = "single_seed_peer";

    /// <summary>Every owner replica caches each blob.</summary>
    public const string AllSeedPeers = "all_seed_peers";

    /// <summary>Every owner replica, then every configured agent preloads the image.</summary>
    public const string AllPeers = "all_peers";

    /// <summary>Normalizes a requested scope (empty = single_seed_peer); null when unknown.</summary>
    public static string? Parse(string? scope) => (scope ?? string.Empty).Trim().ToLowerInvariant() switch
    {
        "" or SingleSeedPeer => SingleSeedPeer,
        AllSeedPeers => AllSeedPeers,
        AllPeers => AllPeers,
        _ => null,
    };
}

/// <summary>Scopes of the preheat tokens; <c>job</c> and <c>cluster</c> are Dragonfly's names.</summary>
internal static class TokenScope
{
    /// <summary>Jobs: Dragonfly's <c>/oapi/v1/jobs</c>, its older <c>/preheats</c>, Shoal's <c>/v1/preheat/jobs</c>.</summary>
    public const string Job = "job";

    /// <summary>Registry notifications and Harbor's "kraken" provider: <c>/registry/notifications</c>.</summary>
    public const string Notification = "notification";

    /// <summary>Dragonfly's scope for its cluster API; accepted so a Dragonfly scope list can be reused, grants nothing here.</summary>
    public const string Cluster = "cluster";

    public static readonly string[] All = [Job, Notification, Cluster];

    public static bool IsKnown(string? scope) => All.Contains(scope, StringComparer.OrdinalIgnoreCase);
}

/// <summary>What <see cref="TokenCheck.Check"/> found.</summary>
internal enum TokenVerdict
{
    /// <summary>No tokens are configured, or a presented token grants the scope.</summary>
    Allowed,

    /// <summary>No configured token was presented: 401.</summary>
    Unauthorized,

    /// <summary>A configured token was presented but none presented grants the scope: 403.</summary>
    Forbidden,
}

/// <summary>Checks the personal access tokens (and their scopes) of the preheat endpoints.</summary>
internal sealed class TokenCheck(PreheatOptions options)
{
    private readonly (byte[] Secret, PreheatToken Token)[] _tokens = options.Tokens.Select(t => (Encoding.UTF8.GetBytes(t.Token), t)).ToArray();

    /// <summary>True when no tokens are configured (open endpoints).</summary>
    public bool Open => _tokens.Length == 0;

    /// <summary>
    /// Whether the request carries a configured token (the <c>access_token</c> query parameter, a bearer,
    /// either half of basic auth, or any header's value) that grants <paramref name="scope"/>.
    /// </summary>
    public TokenVerdict Check(Microsoft.AspNetCore.Http.HttpRequest request, string scope)
    {
        if (Open)
        {
            return TokenVerdict.Allowed;
        }
        var presented = false;
        foreach (var candidate in Candidates(request))
        {
            foreach (var token in Matches(candidate))
            {
                if (token.Grants(scope))
                {
                    return TokenVerdict.Allowed;
                }
                presented = true;
            }
        }
        return presented ? TokenVerdict.Forbidden : TokenVerdict.Unauthorized;
    }

    private static IEnumerable<string> Candidates(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        foreach (var value in request.Query["access_token"])
        {
            if (value is not null)
            {
                yield return value.Trim();
            }
        }
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                if (value is null)
                {
                    continue;
                }
                if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
                {
                    foreach (var candidate in AuthorizationCandidates(value))
                    {
                        yield return candidate;
                    }
                }
                else
                {
                    yield return value.Trim();
                }
            }
        }
    }

    /// <summary>The strings an Authorization header may carry a token as: the credential, and for basic auth the decoded pair and each half.</summary>
    private static IEnumerable<string> AuthorizationCandidates(string value)
    {
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        var scheme = space < 0 ? string.Empty : value[..space];
        var credential = space < 0 ? value.Trim() : value[(space + 1)..].Trim();
        yield return credential;
        if (scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(credential));
            }
            catch (FormatException)
            {
                yield break;
            }
            yield return decoded;
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                // Harbor's basic mode may send "username:<u>" or "password:<p>"; accept either half.
                yield return decoded[..colon];
                yield return decoded[(colon + 1)..];
            }
        }
    }

    /// <summary>The configured tokens equal to <paramref name="candidate"/> (compared in constant time).</summary>
    private List<PreheatToken> Matches(string candidate)
    {
        var bytes = Encoding.UTF8.GetBytes(candidate);
        var matches = new List<PreheatToken>();
        foreach (var (secret, token) in _tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(bytes, secret))
            {
                matches.Add(token);
            }
        }
        return matches;
    }
}
