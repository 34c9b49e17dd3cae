using Shoal.TestKit;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Clients;
using Shoal.Core;
using Shoal.Origin.Internal;
using Shoal.Storage;

namespace Shoal.Origin.Tests;

/// <summary>An origin in front of a filesystem backend (wrapped to count and steer its calls).</summary>
public sealed class BackendTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _backendDir = new();
    private readonly TestBackend _backend;
    private OriginHost _origin = null!;

    public BackendTests() => _backend = new TestBackend(_backendDir.Path);

    public async Task InitializeAsync()
        => _origin = await OriginHost.StartAsync(
            o =>
            {
                o.Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = _backendDir.Path };
                o.Fetch.ErrorTtl = TimeSpan.Zero; // every request tries again (the negative cache has its own tests)
                OriginHost.FastRetries(o);
            },
            b => OriginHost.UseBackend(b, _backend));

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    public void Dispose() => _backendDir.Dispose();

    [Fact]
    public async Task Get_CacheMiss_FetchesFromBackendAndCachesAsPersisted()
    {
        var (digest, data) = await PutInBackendAsync(700_001);

        Assert.Equal(data, await _origin.GetBytesAsync(digest));

        Assert.Equal(1, _backend.Reads);
        var cached = _origin.Store.Stat(digest);
        Assert.NotNull(cached);
        Assert.True(cached.Metadata.Persisted);
        Assert.Equal(data, await _origin.GetBytesAsync(digest));
        Assert.Equal(1, _backend.Reads); // the second read is a hit
    }

    [Fact]
    public async Task HeadAndMetaInfo_CacheMiss_FetchFromBackend()
    {
        var (digest, data) = await PutInBackendAsync(1000);
        var (other, _) = await PutInBackendAsync(2000);

        Assert.Equal(data.Length, await _origin.Client.StatAsync(digest, null, CancellationToken.None));
        var info = await _origin.Client.GetMetaInfoAsync(other, null, CancellationToken.None);

        Assert.NotNull(info);
        Assert.Equal(2000, info.Length);
        Assert.True(_origin.Store.Contains(digest));
        Assert.True(_origin.Store.Contains(other));
    }

    [Fact]
    public async Task MetaInfo_FillStillRunning_Answers202ThenTheMetaInfo()
    {
        // A cold blob's fill can take minutes; metainfo requests are not held that long: 202 with
        // Retry-After while it runs (the fill goes on without the request), the metainfo once done.
        var (digest, data) = await PutInBackendAsync(300_000);
        _backend.ReadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = await _origin.Client.LookupMetaInfoAsync(digest, null, CancellationToken.None);
        Assert.True(first.Pending);
        Assert.Equal(TimeSpan.FromSeconds(1), first.RetryAfter);
        var polling = _origin.Client.GetMetaInfoAsync(digest, null, CancellationToken.None);
        await Task.Delay(1500);
        Assert.False(polling.IsCompleted, "the poll ended while the fill was held");

        _backend.ReadGate.SetResult();
        var info = await polling.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(info);
        Assert.Equal(data.Length, info.Length);
        Assert.Equal(1, _backend.Reads); // one fill, however often it was asked about
        Assert.Equal(info.InfoHash, (await _origin.Client.LookupMetaInfoAsync(digest, null, CancellationToken.None)).Info!.InfoHash);
    }

    [Fact]
    public async Task Get_MissingEverywhere_Returns404()
    {
        var digest = Digest.Compute("nowhere"u8);
        Assert.Null(await _origin.Client.OpenReadAsync(digest, null, null, CancellationToken.None));
        Assert.Null(await _origin.Client.GetMetaInfoAsync(digest, null, CancellationToken.None));
        Assert.Equal(0, _backend.Reads);
    }

    [Fact]
    public async Task Get_TwentyConcurrentMisses_ReadTheBackendOnce()
    {
        var (digest, data) = await PutInBackendAsync(2_000_000);
        var fetcher = _origin.App.Services.GetRequiredService<BackendFetcher>();
        var before = fetcher.Requests;
        // Hold the backend read until all twenty requests are waiting on the fetch.
        _backend.ReadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var reads = Enumerable.Range(0, 20).Select(_ => Task.Run(() => _origin.GetBytesAsync(digest))).ToArray();
        await OriginHost.WaitUntilAsync(() => Task.FromResult(fetcher.Requests - before == 20), "twenty requests wait for the fetch");
        _backend.ReadGate.SetResult();
        var results = await Task.WhenAll(reads);

        Assert.All(results, r => Assert.Equal(data, r));
        Assert.Equal(1, _backend.Reads);
    }

    [Fact]
    public async Task Get_CorruptBackendObject_ResponseAbortedAndNothingStored()
    {
        var (digest, _) = OriginHost.RandomBlob(300_000);
        var wrong = new byte[300_000];
        await _backend.Inner.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(wrong), wrong.Length, CancellationToken.None);

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            // The bytes stream while they arrive, but the last one only after verification: the
            // mismatch resets the connection, so the client never holds a complete unverified blob.
            var ex = await Record.ExceptionAsync(async () =>
            {
                using var response = await _origin.Http.GetAsync($"v1/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead);
                var body = await response.Content.ReadAsByteArrayAsync();
                Assert.Fail($"got a complete answer: {(int)response.StatusCode}, {body.Length} bytes");
            });
            Assert.True(ex is HttpRequestException or IOException, $"unexpected {ex}");
            Assert.False(_origin.Store.Contains(digest));
            Assert.False(_origin.Store.Contains(Digest.Compute(wrong)));
            Assert.Empty(_origin.TempFiles());
            Assert.Equal(attempt, _backend.Reads); // with no error TTL the refusal is not remembered
        }
        Assert.Empty(Directory.GetFiles(Path.Combine(_origin.DataDir, "fetching")));
    }

    [Fact]
    public async Task MetaInfo_CorruptBackendObject_Returns502()
    {
        var (digest, _) = OriginHost.RandomBlob(5000);
        var wrong = new byte[5000];
        await _backend.Inner.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(wrong), wrong.Length, CancellationToken.None);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/blobs/{digest}/metainfo");
        using var response = await _origin.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("does not match", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(_origin.Store.Contains(digest));
    }

    [Fact]
    public async Task Get_BackendFailure_Returns502ThenRecovers()
    {
        var (digest, data) = await PutInBackendAsync(100);
        _backend.ReadFailure = new IOException("disk on fire");

        using var failed = await _origin.Http.GetAsync($"v1/blobs/{digest}");
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Contains("disk on fire", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        _backend.ReadFailure = null;
        Assert.Equal(data, await _origin.GetBytesAsync(digest));
    }

    [Fact]
    public async Task Put_WritesBackToBackendAfterAcknowledging()
    {
        var (digest, data) = OriginHost.RandomBlob(800_000);

        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "library/redis", replicate: true, CancellationToken.None);

        await OriginHost.WaitUntilAsync(() => _origin.IsPersisted(digest), "the blob is written back");
        Assert.Equal(1, _backend.Uploads);
        await using var stored = await _backend.Inner.OpenReadAsync(BackendNames.ForBlob(digest), 0, null, CancellationToken.None);
        Assert.NotNull(stored);
        using var copy = new MemoryStream();
        await stored.CopyToAsync(copy);
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task ChunkedCommit_WritesBackToBackend()
    {
        var (digest, data) = OriginHost.RandomBlob(1234);
        var id = await _origin.Client.StartUploadAsync(null, CancellationToken.None);
        await _origin.Client.AppendUploadAsync(id, new MemoryStream(data), data.Length, 0, CancellationToken.None);
        await _origin.Client.CommitUploadAsync(id, digest, replicate: true, CancellationToken.None);

        await OriginHost.WaitUntilAsync(() => _origin.IsPersisted(digest), "the blob is written back");
        Assert.Equal(data.Length, (await _backend.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None))?.Size);
    }

    [Fact]
    public async Task Put_BackendDown_AcknowledgedThenWrittenBackWhenItReturns()
    {
        var (digest, data) = OriginHost.RandomBlob(3000);
        _backend.UploadFailure = new IOException("backend full");

        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        Assert.Equal(data, await _origin.GetBytesAsync(digest)); // served from the cache meanwhile
        var queue = _origin.App.Services.GetRequiredService<WriteBackQueue>();
        await OriginHost.WaitUntilAsync(async () => (await queue.ListAsync(10, CancellationToken.None)).Any(t => t.Attempts >= 2), "two attempts failed");
        Assert.False(_origin.IsPersisted(digest));
        Assert.Null(await _backend.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None));

        _backend.UploadFailure = null;
        await OriginHost.WaitUntilAsync(() => _origin.IsPersisted(digest), "the blob is written back");
        Assert.NotNull(await _backend.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None));
        await OriginHost.WaitUntilAsync(() => queue.Depth == 0, "the task is deleted");
    }

    [Fact]
    public async Task Delete_DropsOnlyTheCachedCopy()
    {
        var (digest, data) = OriginHost.RandomBlob(100);
        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);
        await OriginHost.WaitUntilAsync(() => _origin.IsPersisted(digest), "the blob is written back");

        Assert.True(await _origin.Client.DeleteAsync(digest, CancellationToken.None));

        Assert.False(_origin.Store.Contains(digest));
        Assert.Equal(data, await _origin.GetBytesAsync(digest)); // fetched back from the backend
    }

    [Fact]
    public async Task Delete_AwaitingWriteBack_Returns409AndKeepsTheBlob()
    {
        var (digest, data) = OriginHost.RandomBlob(100);
        _backend.UploadFailure = new IOException("backend down");
        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        using var response = await _origin.Http.DeleteAsync($"v1/blobs/{digest}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.True(_origin.Store.Contains(digest));
    }

    private async Task<(Digest Digest, byte[] Data)> PutInBackendAsync(int length)
    {
        var (digest, data) = OriginHost.RandomBlob(length);
        await _backend.Inner.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(data), data.Length, CancellationToken.None);
        return (digest, data);
    }
}
