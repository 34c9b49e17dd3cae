using Microsoft.Extensions.Time.Testing;
using Shoal.P2P.Bandwidth;

namespace Shoal.P2P.Tests;

public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void WaitAsync_WithinBurst_CompletesSynchronously()
    {
        var bucket = new TokenBucket(1000, 500, _time);

        Assert.True(CompletedNow(bucket.WaitAsync(300, CancellationToken.None)));
        Assert.True(CompletedNow(bucket.WaitAsync(200, CancellationToken.None)));
        Assert.Equal(0, bucket.Available);
    }

    [Fact]
    public void WaitAsync_BeyondBalance_WaitsExactlyForTheDeficit()
    {
        var bucket = new TokenBucket(1000, 1000, _time);
        Assert.True(CompletedNow(bucket.WaitAsync(1000, CancellationToken.None)));

        var wait = bucket.WaitAsync(500, CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(wait.IsCompletedSuccessfully);
        Assert.Equal(0, bucket.Available);
    }

    [Fact]
    public void WaitAsync_LargerThanBurst_ProceedsAfterAProportionalWait()
    {
        var bucket = new TokenBucket(1000, 100, _time);

        var wait = bucket.WaitAsync(1100, CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(wait.IsCompletedSuccessfully);
    }

    [Fact]
    public void WaitAsync_ConcurrentWaiters_ServedInArrivalOrder()
    {
        var bucket = new TokenBucket(100, 100, _time);
        Assert.True(CompletedNow(bucket.WaitAsync(100, CancellationToken.None)));

        var first = bucket.WaitAsync(100, CancellationToken.None).AsTask();
        var second = bucket.WaitAsync(100, CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(first.IsCompletedSuccessfully);
        Assert.False(second.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(second.IsCompletedSuccessfully);
    }

    [Fact]
    public void WaitAsync_SustainedLoad_ConvergesToTheConfiguredRate()
    {
        const long rate = 10_000;
        var bucket = new TokenBucket(rate, 1000, _time);
        var start = _time.GetUtcNow();
        long sent = 0;

        for (var i = 0; i < 200; i++)
        {
            var wait = bucket.WaitAsync(500, CancellationToken.None).AsTask();
            while (!wait.IsCompleted)
            {
                _time.Advance(TimeSpan.FromMilliseconds(1));
            }
            sent += 500;
        }

        // 100,000 bytes at 10,000 B/s after a 1,000-byte burst: 9.9 s.
        var elapsed = (_time.GetUtcNow() - start).TotalSeconds;
        Assert.InRange(elapsed, 9.9, 9.95);
        Assert.InRange(sent / elapsed, rate * 0.99, rate * 1.02);
    }

    [Fact]
    public async Task WaitAsync_Canceled_ReturnsItsTokens()
    {
        var bucket = new TokenBucket(1000, 1000, _time);
        Assert.True(bucket.TryTake(1000));
        using var cts = new CancellationTokenSource();

        var wait = bucket.WaitAsync(600, cts.Token).AsTask();
        Assert.Equal(-600, bucket.Available);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        Assert.Equal(0, bucket.Available);
    }

    [Fact]
    public void WaitAsync_AlreadyCanceled_TakesNothing()
    {
        var bucket = new TokenBucket(1000, 1000, _time);

        var wait = bucket.WaitAsync(10, new CancellationToken(canceled: true)).AsTask();

        Assert.True(wait.IsCanceled);
        Assert.Equal(1000, bucket.Available);
    }

    [Fact]
    public void TryTake_RefillsWithTimeUpToTheBurst()
    {
        var bucket = new TokenBucket(1000, 1000, _time);
        Assert.True(bucket.TryTake(1000));
        Assert.False(bucket.TryTake(1));

        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.False(bucket.TryTake(251));
        Assert.True(bucket.TryTake(250));

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1000, bucket.Available);
    }

    [Fact]
    public void Unlimited_NeverWaits()
    {
        var bucket = TokenBucket.Create(0);

        Assert.Same(TokenBucket.Unlimited, bucket);
        Assert.True(bucket.IsUnlimited);
        Assert.True(CompletedNow(bucket.WaitAsync(long.MaxValue, CancellationToken.None)));
        Assert.True(bucket.TryTake(long.MaxValue));
    }

    [Fact]
    public void Create_WithoutBurst_UsesATenthOfASecondAtLeast64KiB()
    {
        Assert.Equal(100_000_000, TokenBucket.Create(1_000_000_000, timeProvider: _time).BurstBytes);
        Assert.Equal(64 * 1024, TokenBucket.Create(1000, timeProvider: _time).BurstBytes);
        Assert.Equal(5, TokenBucket.Create(1000, 5, _time).BurstBytes);
    }

    private static bool CompletedNow(ValueTask wait) => wait.IsCompletedSuccessfully;
}
