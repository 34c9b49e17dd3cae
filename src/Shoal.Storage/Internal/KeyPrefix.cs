namespace Shoal.Storage.Internal;

/// <summary>The key prefix a remote backend stores names under.</summary>
internal static class KeyPrefix
{
    /// <summary>
    /// Empty, or a valid name followed by one <c>/</c>: <c>shoal</c>, <c>/shoal/</c> and <c>shoal/</c>
    /// all become <c>shoal/</c>.
    /// </summary>
    public static string Normalize(string? prefix, string what)
    {
        var trimmed = (prefix ?? string.Empty).Trim('/');
        if (trimmed.Length == 0)
        {
            return string.Empty;
        }
        if (!BackendNames.IsValid(trimmed, out var error))
        {
            throw new ArgumentException($"{what} '{prefix}' is invalid: {error}", nameof(prefix));
        }
        return trimmed + "/";
    }
}
