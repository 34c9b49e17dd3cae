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

/// <summary>Checks the personal access tokens of the preheat endpoints.</summary>
internal sealed class TokenCheck(PreheatOptions options)
{
    private readonly byte[][] _tokens = options.Tokens.Select(Encoding.UTF8.GetBytes).ToArray();

    /// <summary>True when no tokens are configured (open endpoints).</summary>
    public bool Open => _tokens.Length == 0;

    /// <summary>Whether the request carries a configured token (bearer, either half of basic auth, or any header's value).</summary>
    public bool IsAuthorized(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        if (Open)
        {
            return true;
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
                        if (Matches(candidate))
                        {
                            return true;
                        }
                    }
                }
                else if (Matches(value.Trim()))
                {
                    return true;
                }
            }
        }
        return false;
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

    private bool Matches(string candidate)
    {
        var bytes = Encoding.UTF8.GetBytes(candidate);
        var match = false;
        foreach (var token in _tokens)
        {
            match |= CryptographicOperations.FixedTimeEquals(bytes, token);
        }
        return match;
    }
}
