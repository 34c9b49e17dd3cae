using System.Globalization;

namespace Shoal.Origin.Internal;

/// <summary>The <c>Content-Range</c> of an upload chunk: <c>start-end</c> (inclusive), optionally <c>bytes start-end/total</c>.</summary>
internal static class ContentRange
{
    public static bool TryParse(string value, out long start, out long end)
    {
        start = end = 0;
        var span = value.AsSpan().Trim();
        if (span.StartsWith("bytes", StringComparison.OrdinalIgnoreCase))
        {
            span = span[5..].TrimStart().TrimStart('=').TrimStart();
        }
        var slash = span.IndexOf('/');
        if (slash >= 0)
        {
            span = span[..slash];
        }
        var dash = span.IndexOf('-');
        return dash > 0
            && long.TryParse(span[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out start)
            && long.TryParse(span[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out end)
            && end >= start;
    }
}
