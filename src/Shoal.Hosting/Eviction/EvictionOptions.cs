using System.ComponentModel.DataAnnotations;

namespace Shoal.Hosting.Eviction;

/// <summary>
/// Cache eviction (<c>origin:eviction</c>, <c>agent:eviction</c>): by idle time, by the store's own
/// accounting of blob bytes (<see cref="Capacity"/>), and by how full the filesystem under the store
/// is (<see cref="DiskHighWatermark"/>). Pinned blobs, and blobs the component still
/// needs (an origin's awaiting write-back or in use), are never evicted.
/// </summary>
public sealed class EvictionOptions : IValidatableObject
{
    /// <summary>The cache's capacity in bytes. Default 0: unlimited (no size-based eviction).</summary>
    [Range(0, long.MaxValue)]
    public long Capacity { get; set; }

    /// <summary>Above this fraction of <see cref="Capacity"/> the sweeper evicts. Greater than 0, at most 1; default 0.9.</summary>
    [Range(0.01, 1.0)]
    public double HighWatermark { get; set; } = 0.9;

    /// <summary>The sweeper evicts least-recently-accessed blobs down to this fraction of <see cref="Capacity"/>. Default 0.8.</summary>
    [Range(0.0, 1.0)]
    public double LowWatermark { get; set; } = 0.8;

    /// <summary>
    /// Above this fraction of the filesystem that holds the store in use (by anything, not only the
    /// cache) the sweeper evicts least-recently-accessed blobs. Default 0: off; else 0.01–1.
    /// </summary>
    [Range(0.0, 1.0)]
    public double DiskHighWatermark { get; set; }

    /// <summary>
    /// The sweeper evicts down to this fraction of the filesystem in use (as far as the cache's own
    /// blobs can take it). Default none: 0.1 below <see cref="DiskHighWatermark"/>.
    /// </summary>
    [Range(0.0, 1.0)]
    public double? DiskLowWatermark { get; set; }

    /// <summary>The effective <see cref="DiskLowWatermark"/>.</summary>
    internal double DiskTarget => DiskLowWatermark ?? Math.Max(0, DiskHighWatermark - 0.1);

    /// <summary>Blobs not accessed for this long are evicted whatever the cache's size. Default 0: off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan TimeToIdle { get; set; }

    /// <summary>How often the sweeper runs. 1 second to 1 day; default 1 minute.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LowWatermark > HighWatermark)
        {
            yield return new ValidationResult("lowWatermark must not be above highWatermark", [nameof(LowWatermark)]);
        }
        if (DiskHighWatermark is > 0 and < 0.01)
        {
            yield return new ValidationResult("diskHighWatermark must be 0 (off) or at least 0.01", [nameof(DiskHighWatermark)]);
        }
        if (DiskLowWatermark is { } low && low > DiskHighWatermark)
        {
            yield return new ValidationResult("diskLowWatermark must not be above diskHighWatermark", [nameof(DiskLowWatermark)]);
        }
    }
}
