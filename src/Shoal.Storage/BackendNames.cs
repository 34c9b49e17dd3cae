using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Shoal.Core;

namespace Shoal.Storage;

/// <summary>
/// Object names in backends: the canonical name of each kind of object, and the rules every name
/// must follow so that no backend can be steered outside its root.
/// </summary>
/// <remarks>
/// A name is <c>/</c>-separated segments of <c>[A-Za-z0-9._-]</c>; no segment is empty, <c>.</c> or
/// <c>..</c>; a segment has at most <see cref="MaxSegmentLength"/> characters (a filesystem's file
/// name limit) and the name at most <see cref="MaxLength"/> (S3's key limit).
/// </remarks>
public static class BackendNames
{
    /// <summary>Longest name, in characters.</summary>
    public const int MaxLength = 1024;

    /// <summary>Longest segment, in characters.</summary>
    public const int MaxSegmentLength = 255;

    private const string BlobPrefix = "blobs/" + Digest.Sha256 + "/";

    /// <summary>The canonical name of a blob: <c>blobs/sha256/&lt;hex&gt;</c>.</summary>
    public static string ForBlob(Digest digest)
    {
        if (digest.IsEmpty)
        {
            throw new ArgumentException("empty digest", nameof(digest));
        }
        return BlobPrefix + digest.Hex;
    }

    /// <summary>The digest of a canonical blob name; false for any other name.</summary>
    public static bool TryParseBlob(string? name, out Digest digest)
    {
        digest = default;
        return name is not null
            && name.StartsWith(BlobPrefix, StringComparison.Ordinal)
            && Digest.TryParse(Digest.Sha256 + ":" + name[BlobPrefix.Length..], out digest);
    }

    /// <summary>True when <paramref name="name"/> is a valid object name; otherwise <paramref name="error"/> says why.</summary>
    public static bool IsValid([NotNullWhen(true)] string? name, [NotNullWhen(false)] out string? error)
    {
        if (string.IsNullOrEmpty(name))
        {
            error = "object name is empty";
            return false;
        }
        if (name.Length > MaxLength)
        {
            error = $"object name is longer than {MaxLength} characters";
            return false;
        }
        return CheckSegments(name, lastMayBePartial: false, out error);
    }

    /// <summary>
    /// True when <paramref name="prefix"/> may be used to list: empty, or the start of a valid name
    /// (its last segment may be incomplete).
    /// </summary>
    public static bool IsValidPrefix([NotNullWhen(true)] string? prefix, [NotNullWhen(false)] out string? error)
    {
        if (prefix is null)
        {
            error = "prefix is null";
            return false;
        }
        if (prefix.Length == 0)
        {
            error = null;
            return true;
        }
        if (prefix.Length > MaxLength)
        {
            error = $"prefix is longer than {MaxLength} characters";
            return false;
        }
        return CheckSegments(prefix, lastMayBePartial: true, out error);
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="name"/> is valid.</summary>
    public static void Validate([NotNull] string? name, [CallerArgumentExpression(nameof(name))] string? paramName = null)
    {
        if (!IsValid(name, out var error))
        {
            throw new ArgumentException(error, paramName);
        }
    }

    /// <summary>True for the characters a name segment may contain.</summary>
    public static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';

    private static bool CheckSegments(string value, bool lastMayBePartial, [NotNullWhen(false)] out string? error)
    {
        var start = 0;
        while (true)
        {
            var slash = value.IndexOf('/', start);
            var end = slash < 0 ? value.Length : slash;
            var segment = value.AsSpan(start, end - start);
            var last = slash < 0;
            if (!(last && lastMayBePartial))
            {
                if (segment.IsEmpty)
                {
                    error = "object name has an empty segment";
                    return false;
                }
                if (segment is "." or "..")
                {
                    error = $"object name has a '{segment}' segment";
                    return false;
                }
            }
            if (segment.Length > MaxSegmentLength)
            {
                error = $"object name has a segment longer than {MaxSegmentLength} characters";
                return false;
            }
            foreach (var c in segment)
            {
                if (!IsNameChar(c))
                {
                    error = c < 0x20 || c > 0x7e
                        ? $"object name has the character U+{(int)c:X4}; only [A-Za-z0-9._-] and '/' are allowed"
                        : $"object name has the character '{c}'; only [A-Za-z0-9._-] and '/' are allowed";
                    return false;
                }
            }
            if (last)
            {
                error = null;
                return true;
            }
            start = slash + 1;
        }
    }
}
