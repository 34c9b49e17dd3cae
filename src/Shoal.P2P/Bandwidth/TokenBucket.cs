namespace Shoal.P2P.Bandwidth;

/// <summary>
/// A bandwidth limit: tokens (bytes) accrue at <see cref="BytesPerSecond"/> up to
/// <see cref="BurstBytes"/>; sending or receiving <c>n</c> bytes takes <c>n</c> tokens. Shared by
/// every connection of a direction (ingress or egress), so it is thread-safe.
/// </summary>
/// <remarks>
/// <see cref="WaitAsync"/> reserves its tokens at once and lets the balance go negative, then waits
/// until the balance would have recovered. Waiters are therefore served in arrival order, a request
/// larger than the burst still proceeds (after a proportionally longer wait), and the long-run rate
/// never exceeds <see cref="BytesPerSecond"/> by more than one burst. Time comes from a
/// <see cref="TimeProvider"/>, so tests drive it with a fake clock.
/// </remarks>
public sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private double _tokens;
    private long _lastRefill;

    /// <summary>Creates a limit of <paramref name="bytesPerSecond"/> with bursts of up to <paramref name="burstBytes"/>; starts full.</summary>
    public TokenBucket(long bytesPerSecond, long burstBytes, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burstBytes);
        _timeProvider = timeProvider ?? TimeProvider.System;
        BytesPerSecond = bytesPerSecond;
        BurstBytes = burstBytes;
        _tokens = burstBytes;
        _lastRefill = _timeProvider.GetTimestamp();
    }

    private TokenBucket()
    {
        _timeProvider = TimeProvider.System;
        IsUnlimited = true;
        BytesPerSecond = long.MaxValue;
        BurstBytes = long.MaxValue;
    }

    /// <summary>A bucket that never waits.</summary>
    public static TokenBucket Unlimited { get; } = new();

    /// <summary>
    /// A bucket for a configured limit: <see cref="Unlimited"/> when <paramref name="bytesPerSecond"/>
    /// is 0 or less, otherwise one whose burst is <paramref name="burstBytes"/> or, when that is 0 or
    /// less, a tenth of a second of traffic (at least 64 KiB).
    /// </summary>
    public static TokenBucket Create(long bytesPerSecond, long burstBytes = 0, TimeProvider? timeProvider = null)
    {
        if (bytesPerSecond <= 0)
        {
            return Unlimited;
        }
        return new TokenBucket(bytesPerSecond, burstBytes > 0 ? burstBytes : Math.Max(64 * 1024, bytesPerSecond / 10), timeProvider);
    }

    /// <summary>True when the bucket never limits.</summary>
    public bool IsUnlimited { get; }

    /// <summary>The refill rate, in bytes per second.</summary>
    public long BytesPerSecond { get; }

    /// <summary>The most tokens the bucket holds, in bytes.</summary>
    public long BurstBytes { get; }

    /// <summary>The tokens available now (negative while waiters hold reservations).</summary>
    public long Available
    {
        get
        {
            if (IsUnlimited)
            {
                return long.MaxValue;
            }
            lock (_lock)
            {
                Refill();
                return (long)Math.Floor(_tokens);
            }
        }
    }

    /// <summary>Takes <paramref name="bytes"/> tokens if they are available now, without waiting.</summary>
    public bool TryTake(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (IsUnlimited || bytes == 0)
        {
            return true;
        }
        lock (_lock)
        {
            Refill();
            if (_tokens < bytes)
            {
                return false;
            }
            _tokens -= bytes;
            return true;
        }
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> tokens, waiting until the rate allows them. Completes
    /// synchronously (without allocating) when tokens are available. On cancellation the tokens are returned.
    /// </summary>
    public ValueTask WaitAsync(long bytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        if (IsUnlimited || bytes == 0)
        {
            return ValueTask.CompletedTask;
        }
        TimeSpan delay;
        lock (_lock)
        {
            Refill();
            _tokens -= bytes;
            if (_tokens >= 0)
            {
                return ValueTask.CompletedTask;
            }
            // Round up to a whole tick so the balance has recovered when the delay ends.
            delay = TimeSpan.FromTicks((long)Math.Ceiling(-_tokens * TimeSpan.TicksPerSecond / BytesPerSecond));
        }
        return WaitSlowAsync(bytes, delay, cancellationToken);
    }

    private async ValueTask WaitSlowAsync(long bytes, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _timeProvider, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                Refill();
                _tokens = Math.Min(BurstBytes, _tokens + bytes);
            }
            throw;
        }
    }

    private void Refill()
    {
        var now = _timeProvider.GetTimestamp();
        var elapsed = _timeProvider.GetElapsedTime(_lastRefill, now);
        _lastRefill = now;
        if (elapsed > TimeSpan.Zero)
        {
            _tokens = Math.Min(BurstBytes, _tokens + (elapsed.Ticks * (double)BytesPerSecond / TimeSpan.TicksPerSecond));
        }
    }
}
