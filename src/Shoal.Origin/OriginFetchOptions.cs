using System.ComponentModel.DataAnnotations;

namespace Shoal.Origin;

/// <summary>
/// Filling cache misses. A failed fill is remembered briefly (a negative cache) so a burst of
/// requests for a missing or unreachable blob does not hammer the backend.
/// </summary>
public sealed class OriginFetchOptions
{
    /// <summary>How long a failed fill (backend or peers unreachable, corrupt object) is remembered. 0 to 1 hour; default 5 seconds (0 = not at all).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ErrorTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a metainfo request for a blob being fetched waits for the fetch before it is answered
    /// 202 Accepted (the tracker and agents then ask again, Kraken-style, instead of holding a request
    /// open for the minutes a large cold blob can take). 0 to 1 minute; default 1 second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan AcceptedAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long "in no peer and not in the backend" is remembered. 0 to 1 hour; default 30 seconds (0 = not at all).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan NotFoundTtl { get; set; } = TimeSpan.FromSeconds(30);
}
