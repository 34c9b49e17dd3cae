using Shoal.Tracker.Internal;

namespace Shoal.Tracker.Tests;

public sealed class LruCacheTests
{
    [Fact]
    public void Set_BeyondCapacity_EvictsTheLeastRecentlyUsed()
    {
        var cache = new LruCache<string, byte[]>(30, v => v.Length);
        cache.Set("a", new byte[10]);
        cache.Set("b", new byte[10]);
        cache.Set("c", new byte[10]);
        Assert.True(cache.TryGet("a", out _)); // b is now the least recently used

        cache.Set("d", new byte[10]);

        Assert.True(cache.TryGet("a", out _));
        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("c", out _));
        Assert.True(cache.TryGet("d", out _));
        Assert.Equal(30, cache.Size);
    }

    [Fact]
    public void Set_ValueHeavierThanTheBudget_IsNotCached()
    {
        var cache = new LruCache<string, byte[]>(30, v => v.Length);
        cache.Set("a", new byte[10]);

        cache.Set("huge", new byte[31]);

        Assert.False(cache.TryGet("huge", out _));
        Assert.True(cache.TryGet("a", out _));
    }

    [Fact]
    public void Set_ExistingKey_ReplacesItsValueAndSize()
    {
        var cache = new LruCache<string, byte[]>(30, v => v.Length);
        cache.Set("a", new byte[10]);

        cache.Set("a", new byte[25]);

        Assert.True(cache.TryGet("a", out var value));
        Assert.Equal(25, value.Length);
        Assert.Equal(1, cache.Count);
        Assert.Equal(25, cache.Size);
    }
}
