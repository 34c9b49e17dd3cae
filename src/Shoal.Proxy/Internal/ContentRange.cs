using System.Globalization;

namespace Shoal.Proxy.Internal;

/// <summary>
/// The <c>Content-Range</c> of a chunk upload: <c>&lt;start&gt;-&lt;end&gt;</c>, both inclusive (the
/// registry API's form). The HTTP form <c>bytes &lt;start&gt;-&lt;end&gt;/&lt;total|*&gt;</c> is accepted too.
/// </summary>
internal readonly record struct ContentRange(long Start, long End)
{
    /// <summary>How many bytes the range covers.</summary>
    public long Length => End - Start + 1;

    /// <summary>Parses a header value; false when it is not a range of the forms above (end before start included).</summary>
    public static bool TryParse(string? value, out ContentRange range)
    {
        range = default;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }
        var span = value.AsSpan().Trim();
        if (span.StartsWith("bytes", StringComparison.OrdinalIgnoreCase))
        {
            span = span[5..].TrimStart(" =");
        }
        var slash = span.IndexOf('/');
        if (slash >= 0)
        {
            span = span[..slash];
        }
        var dash = span.IndexOf('-');
        if (dash <= 0
            || !long.TryParse(span[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !long.TryParse(span[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var end)
            || end < start)
        {
            return false;
        }
        range = new ContentRange(start, end);
        return true;
    }
}
