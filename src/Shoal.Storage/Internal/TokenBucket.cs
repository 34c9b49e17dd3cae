namespace Shoal.Storage.Internal;

/// <summary>
/// A token bucket of bytes: it refills at <c>rate</c> bytes per second up to <c>burst</c> bytes.
/// A caller takes what it is about to move and waits while the bucket is in debt, so the long-run
/// throughput is the rate however the takes are sized.
/// </summary>
internal sealed class TokenBucket
{
    private readonly double _rate;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private double _tokens;
    private long _last;

    public TokenBucket(long bytesPerSecond, TimeProvider time, long? burst = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        _rate = bytesPerSecond;
        _burst = burst ?? bytesPerSecond; // one second's worth
        _time = time;
        _tokens = _burst;
        _last = time.GetTimestamp();
    }

    /// <summary>The most bytes one take should ask for.</summary>
    public int MaxTake => (int)Math.Clamp(_burst, 1, 64 * 1024);

    /// <summary>Takes <paramref name="bytes"/> tokens, waiting until the bucket is out of debt.</summary>
    public Task TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        TimeSpan wait;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _rate));
            _last = now;
            _tokens -= bytes;
            wait = _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _rate);
        }
        return wait <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, _time, cancellationToken);
    }
}
