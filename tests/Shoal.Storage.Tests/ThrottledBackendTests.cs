using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Shoal.Storage.Internal;

namespace Shoal.Storage.Tests;

public sealed class ThrottledBackendTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new();
    private readonly FileSystemBackend _inner;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    public ThrottledBackendTests() => _inner = new FileSystemBackend(_dir.Path);

    public void Dispose()
    {
        _timeout.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task TokenBucket_WithinBurst_DoesNotWait_ThenWaitsForTheDebt()
    {
        var bucket = new TokenBucket(1000, _time);
        Assert.True(bucket.TakeAsync(600, _timeout.Token).IsCompleted);
        Assert.True(bucket.TakeAsync(400, _timeout.Token).IsCompleted);
        var waiting = bucket.TakeAsync(500, _timeout.Token); // 500 bytes of debt: half a second
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await waiting;
    }

    [Fact]
    public async Task TokenBucket_Refills_UpToTheBurstOnly()
    {
        var bucket = new TokenBucket(1000, _time);
        _time.Advance(TimeSpan.FromSeconds(10)); // idle time does not bank more than one burst
        Assert.True(bucket.TakeAsync(1000, _timeout.Token).IsCompleted);
        var waiting = bucket.TakeAsync(1, _timeout.Token);
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await waiting;
    }

    [Fact]
    public async Task TokenBucket_Cancelled_Throws()
    {
        var bucket = new TokenBucket(1000, _time);
        await bucket.TakeAsync(1000, _timeout.Token);
        using var cancel = new CancellationTokenSource();
        var waiting = bucket.TakeAsync(1000, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task OpenReadAsync_IngressLimit_PacesReads()
    {
        var data = RandomNumberGenerator.GetBytes(3000);
        await _inner.UploadAsync("a/b", new MemoryStream(data), data.Length, _timeout.Token);
        var backend = new ThrottledBackend(_inner, new BandwidthOptions { IngressBytesPerSecond = 1000 }, _time);

        var read = Task.Run(async () =>
        {
            await using var stream = await backend.OpenReadAsync("a/b", 0, null, _timeout.Token);
            using var copy = new MemoryStream();
            await stream!.CopyToAsync(copy, _timeout.Token);
            return copy.ToArray();
        });
        var elapsed = await AdvanceUntilDoneAsync(read);

        Assert.Equal(data, await read);
        // One second's burst is free; the other 2000 bytes take two seconds.
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(2.6));
    }

    [Fact]
    public async Task UploadAsync_EgressLimit_PacesTheContent()
    {
        var data = RandomNumberGenerator.GetBytes(5000);
        var backend = new ThrottledBackend(_inner, new BandwidthOptions { EgressBytesPerSecond = 2000 }, _time);

        var upload = Task.Run(() => backend.UploadAsync("up/x", new MemoryStream(data), data.Length, _timeout.Token));
        var elapsed = await AdvanceUntilDoneAsync(upload);

        await upload;
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(_inner.Root, "up", "x")));
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1.4), TimeSpan.FromSeconds(2.1)); // 3000 bytes past the burst
    }

    [Fact]
    public async Task Unlimited_Direction_PassesThroughWithoutWaiting()
    {
        var data = RandomNumberGenerator.GetBytes(100_000);
        var backend = new ThrottledBackend(_inner, new BandwidthOptions { EgressBytesPerSecond = 10 }, _time);
        await _inner.UploadAsync("big", new MemoryStream(data), data.Length, _timeout.Token);
        await using var stream = await backend.OpenReadAsync("big", 0, null, _timeout.Token);
        using var copy = new MemoryStream();
        await stream!.CopyToAsync(copy, _timeout.Token); // the fake clock never moves: no ingress limit, no wait
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task Metadata_PassesThrough()
    {
        var backend = new ThrottledBackend(_inner, new BandwidthOptions { IngressBytesPerSecond = 1, EgressBytesPerSecond = 1 }, _time);
        await _inner.UploadAsync("m/1", new MemoryStream([1]), 1, _timeout.Token);
        Assert.Equal(1, (await backend.StatAsync("m/1", _timeout.Token))!.Size);
        Assert.Single((await backend.ListAsync("m/", null, 10, _timeout.Token)).Objects);
        Assert.True(await backend.DeleteAsync("m/1", _timeout.Token));
        Assert.Null(await backend.OpenReadAsync("m/1", 0, null, _timeout.Token));
        await Assert.ThrowsAsync<ArgumentException>(() => backend.UploadAsync("../x", new MemoryStream([1]), 1, _timeout.Token));
    }

    [Fact]
    public void Create_NamespaceBoundInner_StaysNamespaceBound()
    {
        var bound = ThrottledBackend.Create(new Bindable(_inner), new BandwidthOptions { IngressBytesPerSecond = 5 });
        var ns = Assert.IsAssignableFrom<INamespaceBoundBackend>(bound);
        var child = Assert.IsType<ThrottledBackend>(ns.Bind("library/x"));
        Assert.Same(_inner, child.Inner);
        Assert.IsNotAssignableFrom<INamespaceBoundBackend>(ThrottledBackend.Create(_inner, new BandwidthOptions { IngressBytesPerSecond = 5 }));
    }

    /// <summary>Moves the fake clock in 50 ms steps until <paramref name="task"/> ends; returns how far it moved.</summary>
    private async Task<TimeSpan> AdvanceUntilDoneAsync(Task task)
    {
        var start = _time.GetUtcNow();
        for (var i = 0; i < 2000 && !task.IsCompleted; i++)
        {
            // Let the transfer reach its next wait before time moves on.
            await Task.WhenAny(task, Task.Delay(5, _timeout.Token));
            if (!task.IsCompleted)
            {
                _time.Advance(TimeSpan.FromMilliseconds(50));
            }
        }
        Assert.True(task.IsCompleted, "the throttled transfer did not finish");
        return _time.GetUtcNow() - start;
    }

    private sealed class Bindable(IBlobBackend inner) : IBlobBackend, INamespaceBoundBackend
    {
        public IBlobBackend Bind(string ns) => inner;

        public Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken) => inner.StatAsync(name, cancellationToken);

        public Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken) => inner.OpenReadAsync(name, offset, length, cancellationToken);

        public Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken) => inner.UploadAsync(name, content, length, cancellationToken);

        public Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken) => inner.ListAsync(prefix, continuationToken, limit, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) => inner.DeleteAsync(name, cancellationToken);
    }
}
