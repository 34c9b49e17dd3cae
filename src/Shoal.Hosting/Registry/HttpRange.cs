using System.Globalization;

namespace Shoal.Hosting.Registry;

/// <summary>Parses a single-range <c>Range: bytes=…</c> header against a known length.</summary>
public static class HttpRange
{
    /// <summary>The outcome of parsing.</summary>
    public enum Outcome
    {
        /// <summary>No usable Range header (absent, multi-range, or not bytes): serve the whole entity.</summary>
        Whole,

        /// <summary>A satisfiable range.</summary>
        Partial,

        /// <summary>A syntactically valid range that does not overlap the entity: 416.</summary>
        Unsatisfiable,
    }

    /// <summary>Resolves <paramref name="header"/> for an entity of <paramref name="length"/> bytes.</summary>
    public static Outcome Resolve(string? header, long length, out long offset, out long count)
    {
        offset = 0;
        count = length;
        if (string.IsNullOrWhiteSpace(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return Outcome.Whole;
        }
        var spec = header.AsSpan(6).Trim();
        if (spec.Contains(','))
        {
            return Outcome.Whole;
        }
        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return Outcome.Whole;
        }
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.IsEmpty)
        {
            // Suffix range: the last N bytes.
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix))
            {
                return Outcome.Whole;
            }
            if (suffix == 0 || length == 0)
            {
                return Outcome.Unsatisfiable;
            }
            count = Math.Min(suffix, length);
            offset = length - count;
            return Outcome.Partial;
        }
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return Outcome.Whole;
        }
        long end = length - 1;
        if (!last.IsEmpty)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start)
            {
                return Outcome.Whole;
            }
        }
        if (start >= length)
        {
            return Outcome.Unsatisfiable;
        }
        end = Math.Min(end, length - 1);
        offset = start;
        count = end - start + 1;
        return Outcome.Partial;
    }
}
