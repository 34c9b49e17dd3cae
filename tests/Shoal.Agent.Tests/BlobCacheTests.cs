using Shoal.TestKit;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Shoal.Agent.Internal;
using Shoal.Core.Store;

namespace Shoal.Agent.Tests;

public sealed class BlobCacheTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeLifetime _lifetime = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly ScriptedBlobSource _source = new();
    private readonly AgentStats _stats;
    private readonly BlobCache _cache;

    public BlobCacheTests()
    {
        _stats = new AgentStats(_services.GetRequiredService<IMeterFactory>());
        var store = new BlobStore(new BlobStoreOptions { Root = _dir.Path });
        _cache = new BlobCache(store, _source, new BlobLeases(), _stats, _lifetime, NullLogger<BlobCache>.Instance);
    }

    public void Dispose()
    {
        _lifetime.Dispose();
        _services.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task EnsureAsync_ConcurrentMisses_ShareOneDownload()
    {
        var digest = _source.Add(TestData.Random(10_000));
        _source.Hold();

        var waits = Enumerable.Range(0, 20).Select(_ => _cache.EnsureAsync(Request(digest), CancellationToken.None)).ToArray();
        Assert.All(waits, w => Assert.False(w.IsCompleted));
        _source.Release();
        var found = await Task.WhenAll(waits);

        Assert.All(found, Assert.True);
        Assert.Equal(1, _source.Downloads);
        Assert.Equal(1, _stats.DownloadsStarted);
        Assert.Equal(19, _stats.DownloadsJoined);
        Assert.Equal(1, _stats.BlobsDownloaded);
        Assert.Equal(10_000, _stats.BytesDownloaded);
        Assert.True(_cache.Store.Contains(digest));
    }

    [Fact]
    public async Task EnsureAsync_Cached_IsACacheHitWithoutDownload()
    {
        var digest = _source.Add(TestData.Random(100));
        Assert.True(await _cache.EnsureAsync(Request(digest), CancellationToken.None));

        Assert.True(await _cache.EnsureAsync(Request(digest), CancellationToken.None));

        Assert.Equal(1, _source.Downloads);
        Assert.Equal(1, _stats.CacheHits);
    }

    [Fact]
    public async Task EnsureAsync_FailedDownload_IsNotRememberedAndNextRequestRetries()
    {
        var digest = _source.Add(TestData.Random(1000));
        _source.Failure = new HttpRequestException("origin down");

        await Assert.ThrowsAsync<HttpRequestException>(() => _cache.EnsureAsync(Request(digest), CancellationToken.None));
        Assert.False(_cache.Store.Contains(digest));
        Assert.Equal(1, _stats.DownloadsFailed);

        _source.Failure = null;
        Assert.True(await _cache.EnsureAsync(Request(digest), CancellationToken.None));
        Assert.Equal(2, _source.Downloads);
        Assert.True(_cache.Store.Contains(digest));
    }

    [Fact]
    public async Task EnsureAsync_NoSourceHasIt_ReturnsFalse()
    {
        var digest = Shoal.Core.Digest.Compute([1, 2, 3]);

        Assert.False(await _cache.EnsureAsync(Request(digest), CancellationToken.None));
        Assert.False(_cache.Store.Contains(digest));
    }

    [Fact]
    public async Task EnsureAsync_OneWaiterCancels_DownloadCompletesForTheOthers()
    {
        var digest = _source.Add(TestData.Random(5000));
        _source.Hold();
        using var cancel = new CancellationTokenSource();

        var impatient = _cache.EnsureAsync(Request(digest), cancel.Token);
        var patient = _cache.EnsureAsync(Request(digest), CancellationToken.None);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        _source.Release();

        Assert.True(await patient);
        Assert.Equal(1, _source.Downloads);
        Assert.True(_cache.Store.Contains(digest));
    }

    [Fact]
    public async Task StatAsync_Miss_AsksSourceWithoutDownloading()
    {
        var digest = _source.Add(TestData.Random(777));

        Assert.Equal(777, await _cache.StatAsync(Request(digest), CancellationToken.None));
        Assert.Null(await _cache.StatAsync(Request(Shoal.Core.Digest.Compute([9])), CancellationToken.None));

        Assert.Equal(0, _source.Downloads);
        Assert.False(_cache.Store.Contains(digest));
    }

    [Fact]
    public async Task Stats_Download_IsPublishedOnTheShoalAgentMeter()
    {
        var digest = _source.Add(TestData.Random(4096));
        long blobs = 0, bytes = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AgentStats.MeterName && instrument.Meter.Scope == _services.GetRequiredService<IMeterFactory>())
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            switch (instrument.Name)
            {
                case "shoal.agent.blobs.downloaded":
                    Interlocked.Add(ref blobs, value);
                    break;
                case "shoal.agent.bytes.downloaded":
                    Interlocked.Add(ref bytes, value);
                    break;
            }
        });
        listener.Start();

        await _cache.EnsureAsync(Request(digest), CancellationToken.None);

        Assert.Equal(1, Interlocked.Read(ref blobs));
        Assert.Equal(4096, Interlocked.Read(ref bytes));
    }

    private static BlobRequest Request(Shoal.Core.Digest digest) => new(digest, TestData.Repository, null);
}
