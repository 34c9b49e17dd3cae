using System.ComponentModel.DataAnnotations;

namespace Shoal.Origin;

/// <summary>
/// The persisted write-back queue (<c>writeback.db</c> in the data directory): an upload is
/// acknowledged once the blob is durable in the cache and its tasks (write back to the backend,
/// copy to the other owners) are durably queued; workers run them with retries.
/// </summary>
public sealed class OriginWriteBackOptions : IValidatableObject
{
    /// <summary>How many tasks run at once. 1 to 64; default 4.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 4;

    /// <summary>The delay before the first retry of a failed task; it doubles per attempt. 1 ms to 1 hour; default 1 second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between two attempts (before jitter). 1 ms to 1 day; default 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RetryMaxDelay < RetryMinDelay)
        {
            yield return new ValidationResult("retryMaxDelay must not be shorter than retryMinDelay", [nameof(RetryMaxDelay)]);
        }
    }
}
