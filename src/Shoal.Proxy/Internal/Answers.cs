using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Hosting.Registry;

namespace Shoal.Proxy.Internal;

/// <summary>The registry answers the handlers share: errors, and the parsing that produces them.</summary>
internal static class Answers
{
    /// <summary>A registry error.</summary>
    public static IResult Error(int status, RegistryErrorCode code, string message, object? detail = null)
        => RegistryErrors.Result(status, code, message, detail);

    /// <summary>
    /// Parses a digest from the path or the query. Malformed digests and unsupported algorithms
    /// (<c>sha512:…</c>) both answer 400 DIGEST_INVALID; the message says which it is.
    /// </summary>
    public static bool TryParseDigest(string? value, string what, out Digest digest, [NotNullWhen(false)] out IResult? problem)
    {
        if (Digest.TryParse(value, out digest, out var error))
        {
            problem = null;
            return true;
        }
        problem = Error(StatusCodes.Status400BadRequest, RegistryErrorCode.DIGEST_INVALID, $"invalid {what}: {error}", DigestDetail(value));
        return false;
    }

    /// <summary>Parses a manifest reference: a digest when it contains a colon, otherwise a tag.</summary>
    public static bool TryParseReference(string reference, out Digest? digest, [NotNullWhen(false)] out IResult? problem)
    {
        digest = null;
        if (Digest.LooksLikeDigest(reference))
        {
            if (!TryParseDigest(reference, "manifest digest", out var parsed, out problem))
            {
                return false;
            }
            digest = parsed;
            return true;
        }
        if (!RepositoryName.IsValidTag(reference))
        {
            problem = Error(StatusCodes.Status400BadRequest, RegistryErrorCode.TAG_INVALID,
                $"invalid tag '{Truncate(reference)}': up to 128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'");
            return false;
        }
        problem = null;
        return true;
    }

    /// <summary>The <c>detail</c> object naming a digest.</summary>
    public static Dictionary<string, string> DigestDetail(string? digest) => new(StringComparer.Ordinal) { ["digest"] = Truncate(digest) };

    /// <summary>The registry API's <c>Range</c> header of an upload session holding <paramref name="size"/> bytes.</summary>
    public static string UploadRange(long size) => size == 0 ? "0-0" : $"0-{size - 1}";

    /// <summary>Shortens user input quoted in a message.</summary>
    public static string Truncate(string? value)
        => value is null ? "" : value.Length <= 100 ? value : value[..100] + "…";
}
