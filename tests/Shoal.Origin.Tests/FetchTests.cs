using Shoal.TestKit;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shoal.Core;
using Shoal.Origin.Internal;
using Shoal.Storage;

namespace Shoal.Origin.Tests;

/// <summary>Filling misses: streaming while the bytes arrive, one download per blob, the negative cache.</summary>
public sealed class FetchTests : IDisposable
{
    private readonly TempDirectory _backendDir = new();
    private readonly TestBackend _backend;

    public FetchTests() => _backend = new TestBackend(_backendDir.Path);

    public void Dispose() => _backendDir.Dispose();

    [Fact]
    public async Task Get_SlowBackend_StreamsBytesBeforeTheDownloadEnds()
    {
        await using var origin = await StartAsync();
        var (digest, data) = await PutInBackendAsync(1_000_000);
        _backend.HoldAfter = 400_000;
        _backend.HoldGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        using var response = await origin.Http.GetAsync($"v1/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(data.Length, response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[400_000];
        await body.ReadExactlyAsync(first); // arrives while the backend still holds the rest
        Assert.Equal(data.AsSpan(0, 400_000).ToArray(), first);
        Assert.False(origin.Store.Contains(digest));

        _backend.HoldGate.SetResult();
        using var rest = new MemoryStream();
        await body.CopyToAsync(rest);
        Assert.Equal(data.AsSpan(400_000).ToArray(), rest.ToArray());
        Assert.True(origin.Store.Contains(digest));
    }

    [Fact]
    public async Task Get_CorruptObjectWhileStreaming_LastByteWithheldThenConnectionReset()
    {
        await using var origin = await StartAsync();
        var (digest, _) = OriginHost.RandomBlob(200_000);
        var wrong = new byte[200_000];
        await _backend.Inner.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(wrong), wrong.Length, CancellationToken.None);
        // Every byte arrives, but the end of the stream (and so the verification) waits for the gate.
        _backend.HoldAfter = wrong.Length;
        _backend.HoldGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        using var response = await origin.Http.GetAsync($"v1/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var head = new byte[wrong.Length - 1];
        await body.ReadExactlyAsync(head);
        var last = body.ReadAsync(new byte[1]).AsTask();
        Assert.NotSame(last, await Task.WhenAny(last, Task.Delay(TimeSpan.FromMilliseconds(300)))); // withheld until verified

        _backend.HoldGate.SetResult();

        var ex = await Record.ExceptionAsync(() => last);
        Assert.True(ex is HttpRequestException or IOException, $"the last byte must never arrive; got {ex?.ToString() ?? "it"}");
        Assert.False(origin.Store.Contains(digest));
    }

    [Fact]
    public async Task Get_FiftyConcurrentMisses_OneBackendDownloadAndAllCorrect()
    {
        await using var origin = await StartAsync();
        var (digest, data) = await PutInBackendAsync(3_000_000);
        var fetcher = origin.App.Services.GetRequiredService<BackendFetcher>();
        var before = fetcher.Requests;
        _backend.ReadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var http = new HttpClient { BaseAddress = origin.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

        var reads = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            using var response = await http.GetAsync($"v1/blobs/{digest}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        })).ToArray();
        await OriginHost.WaitUntilAsync(() => fetcher.Requests - before == 50, "fifty requests wait for the download");
        _backend.ReadGate.SetResult();
        var results = await Task.WhenAll(reads);

        Assert.All(results, r => Assert.Equal(data, r));
        Assert.Equal(1, _backend.Reads);
        Assert.Equal(data, await origin.GetBytesAsync(digest));
        Assert.Equal(1, _backend.Reads);
    }

    [Fact]
    public async Task Get_NotFound_RememberedUntilTheTtlExpires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var origin = await StartAsync(time);
        var (digest, data) = OriginHost.RandomBlob(1000);

        Assert.Null(await origin.Client.OpenReadAsync(digest, null, null, CancellationToken.None));
        Assert.Equal(1, _backend.Stats);
        await _backend.Inner.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(data), data.Length, CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(await origin.Client.OpenReadAsync(digest, null, null, CancellationToken.None));
        Assert.Equal(1, _backend.Stats); // remembered: the backend is not asked again

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(data, await origin.GetBytesAsync(digest));
        Assert.Equal(2, _backend.Stats);
    }

    [Fact]
    public async Task Get_BackendError_RememberedForTheErrorTtlOnly()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var origin = await StartAsync(time);
        var (digest, data) = await PutInBackendAsync(1000);
        _backend.ReadFailure = new IOException("disk on fire");

        using (var failed = await origin.Http.GetAsync($"v1/blobs/{digest}"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
            Assert.Contains("disk on fire", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        _backend.ReadFailure = null;
        using (var remembered = await origin.Http.GetAsync($"v1/blobs/{digest}"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, remembered.StatusCode);
        }
        Assert.Equal(1, _backend.Stats);

        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(data, await origin.GetBytesAsync(digest));
    }

    [Fact]
    public async Task Get_CorruptObject_RememberedAs502AndNeverStored()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var origin = await StartAsync(time);
        var (digest, _) = OriginHost.RandomBlob(2000);
        var wrong = new byte[2000];
        await _backend.Inner.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(wrong), wrong.Length, CancellationToken.None);

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var response = await origin.Http.GetAsync($"v1/blobs/{digest}");
            response.EnsureSuccessStatusCode();
        });
        using var remembered = await origin.Http.GetAsync($"v1/blobs/{digest}");

        Assert.Equal(HttpStatusCode.BadGateway, remembered.StatusCode);
        Assert.Contains("does not match", await remembered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(origin.Store.Contains(digest));
        Assert.Equal(1, _backend.Reads);
    }

    private Task<OriginHost> StartAsync(TimeProvider? time = null)
        => OriginHost.StartAsync(
            o => o.Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = _backendDir.Path },
            b =>
            {
                OriginHost.UseBackend(b, _backend);
                if (time is not null)
                {
                    b.Services.AddSingleton(time);
                }
            });

    private async Task<(Digest Digest, byte[] Data)> PutInBackendAsync(int length)
    {
        var (digest, data) = OriginHost.RandomBlob(length);
        await _backend.Inner.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(data), data.Length, CancellationToken.None);
        return (digest, data);
    }
}
