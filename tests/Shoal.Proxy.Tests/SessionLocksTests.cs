using Shoal.Proxy.Internal;

namespace Shoal.Proxy.Tests;

public sealed class SessionLocksTests
{
    [Fact]
    public async Task Acquire_SameId_SerializesAndForgetsIdleEntries()
    {
        var locks = new SessionLocks();
        var first = await locks.AcquireAsync("a", CancellationToken.None);
        var second = locks.AcquireAsync("a", CancellationToken.None);
        var other = await locks.AcquireAsync("b", CancellationToken.None);

        Assert.False(second.IsCompleted);
        first.Dispose();
        first.Dispose(); // idempotent
        using (await second)
        {
            Assert.Equal(2, locks.Count);
        }
        other.Dispose();
        Assert.Equal(0, locks.Count);
    }

    [Fact]
    public async Task Acquire_Cancelled_LeavesNoEntry()
    {
        var locks = new SessionLocks();
        var held = await locks.AcquireAsync("a", CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var waiting = locks.AcquireAsync("a", cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();
        Assert.Equal(0, locks.Count);
    }
}
