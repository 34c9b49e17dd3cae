using Shoal.Core.Store;
using Shoal.Hosting.Eviction;
using Shoal.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shoal.Core;
using Shoal.Origin.Internal;
using Shoal.Storage;

namespace Shoal.Origin.Tests;

/// <summary>Eviction by the store's accounted bytes and by idle time, never of what must stay.</summary>
public sealed class EvictionTests : IDisposable
{
    private readonly TempDirectory _backendDir = new();
    private readonly TestBackend _backend;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public EvictionTests() => _backend = new TestBackend(_backendDir.Path);

    public void Dispose() => _backendDir.Dispose();

    [Fact]
    public async Task Sweep_OverHighWatermark_EvictsLeastRecentlyUsedPersistedDownToLow()
    {
        await using var origin = await StartAsync(o => o.Eviction.Capacity = 1000);
        var oldest = await FetchAsync(origin, 300);
        _time.Advance(TimeSpan.FromMinutes(2));
        var older = await FetchAsync(origin, 300);
        _time.Advance(TimeSpan.FromMinutes(2));
        var pinned = await FetchAsync(origin, 300);
        origin.Store.UpdateFlags(pinned, pinned: true);
        _backend.UploadFailure = new IOException("backend down");
        var (unpersisted, data) = OriginHost.RandomBlob(300);
        await origin.Client.UploadAsync(unpersisted, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(2));
        var recent = await FetchAsync(origin, 100);
        Assert.Equal(1300, origin.Store.TotalBytes);

        var evicted = origin.App.Services.GetRequiredService<EvictionSweeper>().Sweep();

        // 1300 > 900: the two least recently used evictable blobs go (1300 → 700 ≤ 800); the
        // pinned and the unpersisted ones stay although they are older than the most recent.
        Assert.Equal(2, evicted);
        Assert.False(origin.Store.Contains(oldest));
        Assert.False(origin.Store.Contains(older));
        Assert.True(origin.Store.Contains(pinned));
        Assert.True(origin.Store.Contains(unpersisted));
        Assert.True(origin.Store.Contains(recent));
        Assert.Equal(700, origin.Store.TotalBytes);
    }

    [Fact]
    public async Task Sweep_AwaitingWriteBack_NeverEvictedUntilWrittenBack()
    {
        await using var origin = await StartAsync(o =>
        {
            o.Eviction.Capacity = 100;
            o.Eviction.TimeToIdle = TimeSpan.FromMinutes(1);
        });
        var sweeper = origin.App.Services.GetRequiredService<EvictionSweeper>();
        _backend.UploadFailure = new IOException("backend down");
        var (digest, data) = OriginHost.RandomBlob(5000);
        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, sweeper.Sweep());
        Assert.True(origin.Store.Contains(digest));

        _backend.UploadFailure = null;
        await OriginHost.WaitUntilAsync(() =>
        {
            _time.Advance(TimeSpan.FromSeconds(1)); // let the retry back-off elapse
            return origin.IsPersisted(digest);
        }, "the blob is written back");
        Assert.Equal(1, sweeper.Sweep());
        Assert.False(origin.Store.Contains(digest));
        Assert.Equal(0, origin.Store.TotalBytes);
    }

    [Fact]
    public async Task Sweep_TimeToIdle_EvictsIdlePersistedBlobsButNotPinnedOrInUse()
    {
        await using var origin = await StartAsync(o => o.Eviction.TimeToIdle = TimeSpan.FromHours(1));
        var idle = await FetchAsync(origin, 100);
        var pinned = await FetchAsync(origin, 100);
        origin.Store.UpdateFlags(pinned, pinned: true);
        var inUse = await FetchAsync(origin, 100);
        _time.Advance(TimeSpan.FromMinutes(50));
        var fresh = await FetchAsync(origin, 100);
        _time.Advance(TimeSpan.FromMinutes(20));
        var sweeper = origin.App.Services.GetRequiredService<EvictionSweeper>();

        using (origin.App.Services.GetRequiredService<BlobLeases>().Acquire(inUse))
        {
            Assert.Equal(1, sweeper.Sweep());
        }

        Assert.False(origin.Store.Contains(idle));
        Assert.True(origin.Store.Contains(pinned));
        Assert.True(origin.Store.Contains(inUse));
        Assert.True(origin.Store.Contains(fresh));
        Assert.Equal(1, sweeper.Sweep()); // no longer in use
        Assert.False(origin.Store.Contains(inUse));
    }

    [Fact]
    public async Task Sweep_UnderHighWatermark_EvictsNothing()
    {
        await using var origin = await StartAsync(o => o.Eviction.Capacity = 1000);
        await FetchAsync(origin, 400);
        await FetchAsync(origin, 400);
        Assert.Equal(0, origin.App.Services.GetRequiredService<EvictionSweeper>().Sweep());
        Assert.Equal(800, origin.Store.TotalBytes);
    }

    private Task<OriginHost> StartAsync(Action<OriginOptions> configure)
        => OriginHost.StartAsync(
            o =>
            {
                o.Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = _backendDir.Path };
                o.Eviction.Interval = TimeSpan.FromDays(1); // sweeps run when the test says
                OriginHost.FastRetries(o);
                configure(o);
            },
            b =>
            {
                OriginHost.UseBackend(b, _backend);
                b.Services.AddSingleton<TimeProvider>(_time);
            });

    /// <summary>Puts a blob in the backend and reads it through the origin (cached, persisted, accessed now).</summary>
    private async Task<Digest> FetchAsync(OriginHost origin, int length)
    {
        var (digest, data) = OriginHost.RandomBlob(length);
        await _backend.Inner.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(data), data.Length, CancellationToken.None);
        Assert.Equal(data, await origin.GetBytesAsync(digest));
        return digest;
    }
}
