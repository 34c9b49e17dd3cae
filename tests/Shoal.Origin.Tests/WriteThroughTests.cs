using Shoal.Hosting.Eviction;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Clients;
using Shoal.Origin.Internal;
using Shoal.Storage;
using Shoal.TestKit;

namespace Shoal.Origin.Tests;

/// <summary>
/// Write-through rules: an upload is acknowledged only once the blob is in the backend; a backend
/// that cannot take it fails the upload. Write-back rules acknowledge before the backend write.
/// </summary>
public sealed class WriteThroughTests : IDisposable
{
    private static readonly TimeSpan Pending = TimeSpan.FromMilliseconds(300);
    private readonly TempDirectory _backendDir = new();

    public void Dispose() => _backendDir.Dispose();

    [Fact]
    public async Task Put_WriteThrough_AcknowledgedOnlyOnceTheBlobIsInTheBackend()
    {
        var backend = new TestBackend(_backendDir.Path) { UploadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var origin = await OriginHost.StartAsync(SlowRetries, b => OriginHost.UseBackend(b, backend, writeThrough: true));
        var (digest, data) = OriginHost.RandomBlob(200_000);

        var upload = origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "team/app", replicate: true, CancellationToken.None);
        await OriginHost.WaitUntilAsync(() => backend.UploadsStarted == 1, "the backend write starts");
        // The backend holds the write: the upload is not acknowledged meanwhile.
        Assert.NotSame(upload, await Task.WhenAny(upload, Task.Delay(Pending)));
        Assert.False(origin.IsPersisted(digest));

        backend.UploadGate.SetResult();
        await upload;

        Assert.Equal(data.Length, (await backend.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None))?.Size);
        Assert.True(origin.IsPersisted(digest));
        Assert.Equal(1, backend.Uploads);
        Assert.Equal(0, Queue(origin).Depth); // the write-back task, done inline, is not left queued
    }

    [Fact]
    public async Task Put_WriteBack_AcknowledgedBeforeTheBackendWrite()
    {
        var backend = new TestBackend(_backendDir.Path) { UploadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var origin = await OriginHost.StartAsync(SlowRetries, b => OriginHost.UseBackend(b, backend, writeThrough: false));
        var (digest, data) = OriginHost.RandomBlob(200_000);

        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "team/app", replicate: true, CancellationToken.None);

        Assert.Null(await backend.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None));
        Assert.False(origin.IsPersisted(digest));
        backend.UploadGate.SetResult();
        await OriginHost.WaitUntilAsync(() => origin.IsPersisted(digest), "the queued write-back runs");
        Assert.Equal(data.Length, (await backend.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None))?.Size);
        await OriginHost.WaitUntilAsync(() => Queue(origin).Depth == 0, "the task is deleted");
    }

    [Fact]
    public async Task Put_WriteThroughBackendDown_503NothingAcknowledged_RetryAfterRecoverySucceeds()
    {
        var backend = new TestBackend(_backendDir.Path) { UploadFailure = new IOException("backend unreachable") };
        await using var origin = await OriginHost.StartAsync(o =>
        {
            SlowRetries(o);
            o.Eviction.Capacity = 100; // far over the high watermark: anything evictable goes
        }, b => OriginHost.UseBackend(b, backend, writeThrough: true));
        var (digest, data) = OriginHost.RandomBlob(150_000);

        var ex = await Assert.ThrowsAsync<ServiceException>(() =>
            origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "team/app", replicate: true, CancellationToken.None));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Contains("backend write failed", ex.Detail, StringComparison.Ordinal);
        Assert.Contains("backend unreachable", ex.Detail, StringComparison.Ordinal);
        Assert.Null(await backend.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None));
        // Cached but not persisted: never evicted, never dropped, its write-back still pending.
        Assert.True(origin.Store.Contains(digest));
        Assert.False(origin.IsPersisted(digest));
        Assert.Equal(0, origin.App.Services.GetRequiredService<EvictionSweeper>().Sweep());
        var refused = await Assert.ThrowsAsync<ServiceException>(() => origin.Client.DeleteAsync(digest, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.True(origin.Store.Contains(digest));
        await OriginHost.WaitUntilAsync(async () =>
        {
            var listing = await origin.Http.GetFromJsonAsync<JsonElement>("v1/writeback");
            return listing.GetProperty("depth").GetInt64() == 1
                && listing.GetProperty("tasks")[0].GetProperty("kind").GetString() == "writeback"
                && listing.GetProperty("tasks")[0].GetProperty("attempts").GetInt32() >= 1;
        }, "the write-back stays queued, its failure recorded");

        // The backend comes back; the client's retry writes the blob through (the queue waits for its back-off).
        backend.UploadFailure = null;
        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "team/app", replicate: true, CancellationToken.None);

        Assert.Equal(data.Length, (await backend.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None))?.Size);
        Assert.True(origin.IsPersisted(digest));
        Assert.Equal(1, backend.Uploads);
        Assert.Equal(0, Queue(origin).Depth);
    }

    [Fact]
    public async Task CommitUpload_WriteThroughBackendDown_503ThenQueueWritesItBackOnceTheBackendReturns()
    {
        var backend = new TestBackend(_backendDir.Path) { UploadFailure = new IOException("backend unreachable") };
        await using var origin = await OriginHost.StartAsync(OriginHost.FastRetries, b => OriginHost.UseBackend(b, backend, writeThrough: true));
        var (digest, data) = OriginHost.RandomBlob(70_000);

        var id = await origin.Client.StartUploadAsync("team/app", CancellationToken.None);
        await origin.Client.AppendUploadAsync(id, new MemoryStream(data), data.Length, 0, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<ServiceException>(() => origin.Client.CommitUploadAsync(id, digest, replicate: true, CancellationToken.None));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.False(origin.IsPersisted(digest));
        backend.UploadFailure = null;
        await OriginHost.WaitUntilAsync(() => origin.IsPersisted(digest), "the queued write-back recovers the blob");
        Assert.Equal(data.Length, (await backend.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None))?.Size);
    }

    [Fact]
    public async Task Put_ConcurrentWriteThroughsOfOneBlob_OneBackendWrite()
    {
        var backend = new TestBackend(_backendDir.Path) { UploadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var origin = await OriginHost.StartAsync(SlowRetries, b => OriginHost.UseBackend(b, backend, writeThrough: true));
        var (digest, data) = OriginHost.RandomBlob(100_000);

        var first = origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "team/app", replicate: true, CancellationToken.None);
        await OriginHost.WaitUntilAsync(() => backend.UploadsStarted == 1, "the first backend write starts");
        var second = origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "team/app", replicate: true, CancellationToken.None);
        Assert.NotSame(second, await Task.WhenAny(second, Task.Delay(Pending))); // it shares the write under way
        backend.UploadGate.SetResult();
        await Task.WhenAll(first, second);

        Assert.Equal(1, backend.UploadsStarted);
        Assert.True(origin.IsPersisted(digest));
    }

    [Fact]
    public async Task Put_DistributionLayoutRule_WritesThroughByDefault()
    {
        var layout = new BackendOptions { Type = BackendOptions.FileSystem, Root = _backendDir.Path, Layout = BackendOptions.DistributionLayoutName };
        await using var origin = await OriginHost.StartAsync(o =>
        {
            SlowRetries(o);
            o.Backends = [new OriginBackendRouteOptions { Namespace = "shared/.*", Backend = layout }];
        });
        var (digest, data) = OriginHost.RandomBlob(50_000);

        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "shared/app", replicate: true, CancellationToken.None);

        // Where a registry on the same storage looks for it, at the moment of the acknowledgement.
        var hex = digest.ToString()["sha256:".Length..];
        var path = Path.Combine(_backendDir.Path, "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
        Assert.Equal(data, await File.ReadAllBytesAsync(path));
        Assert.True(origin.IsPersisted(digest));
        Assert.Equal(0, Queue(origin).Depth);
    }

    [Fact]
    public async Task Put_DistributionLayoutRuleWithWriteThroughOff_WritesBack()
    {
        await using var origin = await OriginHost.StartAsync(o =>
        {
            SlowRetries(o);
            o.Backends =
            [
                new OriginBackendRouteOptions
                {
                    Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = _backendDir.Path, Layout = BackendOptions.DistributionLayoutName },
                    WriteThrough = false,
                },
            ];
        });
        var router = origin.App.Services.GetRequiredService<BackendRouter>();

        Assert.False(router.IsWriteThrough("any/app"));
        var (digest, data) = OriginHost.RandomBlob(10);
        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "any/app", replicate: true, CancellationToken.None);
        await OriginHost.WaitUntilAsync(() => origin.IsPersisted(digest), "the queued write-back runs");
    }

    private static WriteBackQueue Queue(OriginHost origin) => origin.App.Services.GetRequiredService<WriteBackQueue>();

    /// <summary>Retries far in the future: a test sees only the attempts it makes itself (and the queue's first).</summary>
    private static void SlowRetries(OriginOptions options)
    {
        options.WriteBack.RetryMinDelay = TimeSpan.FromHours(1);
        options.WriteBack.RetryMaxDelay = TimeSpan.FromHours(1);
    }
}
