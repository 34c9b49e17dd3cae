using System.Net.Http.Headers;
using System.Text;

namespace Shoal.Storage.Registry.Internal;

/// <summary>A parsed <c>WWW-Authenticate</c> challenge (RFC 7235) of scheme Basic or Bearer.</summary>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public const string Basic = "Basic";
    public const string Bearer = "Bearer";

    public bool IsBearer => string.Equals(Scheme, Bearer, StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => string.Equals(Scheme, Basic, StringComparison.OrdinalIgnoreCase);

    public string? Realm => Parameters.GetValueOrDefault("realm");

    public string? Service => Parameters.GetValueOrDefault("service");

    public string? Scope => Parameters.GetValueOrDefault("scope");

    public string? Error => Parameters.GetValueOrDefault("error");

    /// <summary>The first Bearer challenge of <paramref name="headers"/>, else the first Basic one, else null.</summary>
    public static AuthChallenge? Select(HttpHeaderValueCollection<AuthenticationHeaderValue> headers)
    {
        AuthChallenge? basic = null;
        foreach (var header in headers)
        {
            var challenge = new AuthChallenge(header.Scheme, ParseParameters(header.Parameter));
            if (challenge.IsBearer && !string.IsNullOrEmpty(challenge.Realm))
            {
                return challenge;
            }
            if (challenge.IsBasic)
            {
                basic ??= challenge;
            }
        }
        return basic;
    }

    /// <summary>Parses <c>key=value, key="quoted, value"</c> pairs; keys are case-insensitive.</summary>
    public static IReadOnlyDictionary<string, string> ParseParameters(string? text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(text))
        {
            return result;
        }
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i])))
            {
                i++;
            }
            var keyStart = i;
            while (i < text.Length && text[i] != '=' && text[i] != ',')
            {
                i++;
            }
            var key = text[keyStart..i].Trim();
            if (i >= text.Length || text[i] != '=')
            {
                continue; // A token without a value (token68 or junk): skip.
            }
            i++;
            while (i < text.Length && text[i] == ' ')
            {
                i++;
            }
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var builder = new StringBuilder();
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }
                    builder.Append(text[i]);
                    i++;
                }
                i++; // closing quote
                value = builder.ToString();
            }
            else
            {
                var valueStart = i;
                while (i < text.Length && text[i] != ',')
                {
                    i++;
                }
                value = text[valueStart..i].Trim();
            }
            if (key.Length > 0)
            {
                result.TryAdd(key, value);
            }
        }
        return result;
    }
}
