using Microsoft.Extensions.Time.Testing;
using Shoal.P2P.Engine;

namespace Shoal.P2P.Tests;

/// <summary>When peer connections may touch blob files on the socket event thread.</summary>
public sealed class DiskWatchTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private long _switches;
    private TimeSpan _compilingAndCollecting;

    [Fact]
    public void QuickCalls_KeepFileCallsInline()
    {
        var watch = Watch();
        for (var i = 0; i < 100; i++)
        {
            Assert.Null(Waited(watch, TimeSpan.FromMilliseconds(1 + (i % 30))));
        }
        Assert.True(watch.InlineAllowed);
        Assert.Equal(0, watch.SlowCalls);
    }

    [Fact]
    public void SlowButNeverBlocked_IsOnlyPreemption_KeepsFileCallsInline()
    {
        var watch = Watch();
        var started = watch.Started();
        _time.Advance(DiskWatch.SlowCall * 4);

        Assert.Null(watch.Finished(started));
        Assert.True(watch.InlineAllowed);
    }

    [Fact]
    public void TimeSpentCompilingOrCollecting_IsNotWaiting()
    {
        var watch = Watch();
        for (var i = 0; i < 3; i++)
        {
            var started = watch.Started();
            _switches++;
            _compilingAndCollecting += DiskWatch.SlowCall * 2;
            _time.Advance((DiskWatch.SlowCall * 2) + TimeSpan.FromMilliseconds(10));
            Assert.Null(watch.Finished(started));
        }
        Assert.True(watch.InlineAllowed);
        Assert.Equal(0, watch.SlowCalls);
    }

    [Fact]
    public void CompilingAndCollecting_CountsThisThreadsCompilation()
    {
        var before = DiskWatch.CompilingAndCollecting();
        var method = new System.Reflection.Emit.DynamicMethod("Answer", typeof(int), Type.EmptyTypes);
        var il = method.GetILGenerator();
        il.Emit(System.Reflection.Emit.OpCodes.Ldc_I4, 42);
        il.Emit(System.Reflection.Emit.OpCodes.Ret);
        Assert.Equal(42, ((Func<int>)method.CreateDelegate(typeof(Func<int>)))());
        Assert.True(DiskWatch.CompilingAndCollecting() > before);
    }

    [Fact]
    public void OneOffWaits_KeepFileCallsInline()
    {
        // Fewer than WaitsToMove within the backoff: what a busy machine does now and then.
        var watch = Watch();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 1; i < DiskWatch.WaitsToMove; i++)
            {
                Assert.Null(Waited(watch, DiskWatch.SlowCall * 2));
            }
            _time.Advance(DiskWatch.Backoff + TimeSpan.FromMilliseconds(1));
        }

        Assert.True(watch.InlineAllowed);
        Assert.Equal(3 * (DiskWatch.WaitsToMove - 1), watch.SlowCalls);
    }

    [Fact]
    public void CallsWaitingAgainAndAgain_MoveFileCallsOff_UntilNoneWaitedForTheBackoff()
    {
        var watch = Watch();
        for (var i = 1; i < DiskWatch.WaitsToMove; i++)
        {
            Assert.Null(Waited(watch, DiskWatch.SlowCall));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(DiskWatch.SlowCall + TimeSpan.FromMilliseconds(5), Waited(watch, DiskWatch.SlowCall + TimeSpan.FromMilliseconds(5)));
        Assert.False(watch.InlineAllowed);

        // Another one (on the pool now) is counted and starts the backoff again, without a second report.
        _time.Advance(DiskWatch.Backoff / 2);
        Assert.Null(Waited(watch, DiskWatch.SlowCall));
        Assert.Equal(DiskWatch.WaitsToMove + 1, watch.SlowCalls);

        _time.Advance(DiskWatch.Backoff - TimeSpan.FromMilliseconds(1));
        Assert.False(watch.InlineAllowed);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(watch.InlineAllowed);

        // After a quiet spell it takes WaitsToMove again, and the last is reported.
        _time.Advance(DiskWatch.Backoff);
        for (var i = 1; i < DiskWatch.WaitsToMove; i++)
        {
            Assert.Null(Waited(watch, DiskWatch.SlowCall * 3));
        }
        Assert.True(watch.InlineAllowed);
        Assert.Equal(DiskWatch.SlowCall * 3, Waited(watch, DiskWatch.SlowCall * 3));
        Assert.False(watch.InlineAllowed);
    }

    [Fact]
    public void ThreadVoluntarySwitches_CountsBlockingNotRunning()
    {
        Assert.True(OperatingSystem.IsLinux(), "Shoal's nodes run Linux; elsewhere every slow call counts");
        var before = DiskWatch.ThreadVoluntarySwitches();
        Thread.Sleep(20); // blocks: a voluntary switch
        var afterSleep = DiskWatch.ThreadVoluntarySwitches();
        Assert.True(afterSleep > before, $"{before} -> {afterSleep}");
    }

    private DiskWatch Watch() => new(_time, () => _switches, () => _compilingAndCollecting);

    /// <summary>A call that blocked (a voluntary switch) and took <paramref name="duration"/>: what <see cref="DiskWatch.Finished"/> returns for it.</summary>
    private TimeSpan? Waited(DiskWatch watch, TimeSpan duration)
    {
        var started = watch.Started();
        _switches++;
        _time.Advance(duration);
        return watch.Finished(started);
    }
}
