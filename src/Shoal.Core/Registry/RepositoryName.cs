using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Shoal.Core.Registry;

/// <summary>Validation of repository names and tags, as the OCI distribution spec defines them.</summary>
public static partial class RepositoryName
{
    /// <summary>Longest repository name accepted (distribution's limit).</summary>
    public const int MaxLength = 255;

    /// <summary>True when <paramref name="name"/> is a valid repository name; otherwise <paramref name="error"/> says why.</summary>
    public static bool IsValid([NotNullWhen(true)] string? name, [NotNullWhen(false)] out string? error)
    {
        if (string.IsNullOrEmpty(name))
        {
            error = "repository name is empty";
            return false;
        }
        if (name.Length > MaxLength)
        {
            error = $"repository name is longer than {MaxLength} characters";
            return false;
        }
        if (!NamePattern().IsMatch(name))
        {
            error = $"invalid repository name '{(name.Length > 80 ? name[..80] + "…" : name)}': components are lowercase letters and digits separated by '.', '_', '__' or '-', joined by '/'";
            return false;
        }
        error = null;
        return true;
    }

    /// <summary>True when <paramref name="tag"/> is a valid tag.</summary>
    public static bool IsValidTag([NotNullWhen(true)] string? tag) => tag is not null && TagPattern().IsMatch(tag);

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();
}
