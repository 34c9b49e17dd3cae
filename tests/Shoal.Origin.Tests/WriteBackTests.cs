using Shoal.TestKit;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Origin.Internal;
using Shoal.Storage;

namespace Shoal.Origin.Tests;

/// <summary>The persisted write-back queue: acknowledged uploads reach the backend eventually, across restarts.</summary>
public sealed class WriteBackTests : IDisposable
{
    private readonly TempDirectory _backendDir = new();

    public void Dispose() => _backendDir.Dispose();

    [Fact]
    public async Task Put_BackendDownAcrossRestart_QueueResumesAndWritesBack()
    {
        var down = new TestBackend(_backendDir.Path) { UploadFailure = new IOException("backend unreachable") };
        var origin = await OriginHost.StartAsync(Configure, b => OriginHost.UseBackend(b, down));
        try
        {
            var (digest, data) = OriginHost.RandomBlob(250_000);
            await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "team/app", replicate: true, CancellationToken.None);

            using (var listing = JsonDocument.Parse(await origin.Http.GetStringAsync("v1/writeback")))
            {
                Assert.Equal(1, listing.RootElement.GetProperty("depth").GetInt64());
                var task = listing.RootElement.GetProperty("tasks")[0];
                Assert.Equal("writeback", task.GetProperty("kind").GetString());
                Assert.Equal(digest.ToString(), task.GetProperty("digest").GetString());
                Assert.Equal("team/app", task.GetProperty("namespace").GetString());
            }
            await OriginHost.WaitUntilAsync(async () =>
            {
                var listing = await origin.Http.GetFromJsonAsync<JsonElement>("v1/writeback");
                var task = listing.GetProperty("tasks")[0];
                return task.GetProperty("attempts").GetInt32() >= 1 && task.GetProperty("lastError").GetString() == "backend unreachable";
            }, "a failed attempt is recorded");
            Assert.False(origin.IsPersisted(digest));

            // Stop the origin, bring the backend back, start a new origin on the same data directory.
            var up = new TestBackend(_backendDir.Path);
            origin = await origin.RestartAsync(b => OriginHost.UseBackend(b, up));

            Assert.Equal(data.Length, origin.Store.TotalBytes); // the accounting is rebuilt at start
            await OriginHost.WaitUntilAsync(() => origin.IsPersisted(digest), "the queued write-back resumes");
            Assert.Equal(1, up.Uploads);
            Assert.Equal(data.Length, (await up.Inner.StatAsync(BackendNames.ForBlob(digest), CancellationToken.None))?.Size);
            await OriginHost.WaitUntilAsync(() => origin.App.Services.GetRequiredService<WriteBackQueue>().Depth == 0, "the task is deleted");
            Assert.Equal(data, await origin.GetBytesAsync(digest));
        }
        finally
        {
            await origin.DisposeAsync();
        }
    }

    [Fact]
    public async Task Put_SameBlobTwice_OneQueuedTask()
    {
        var down = new TestBackend(_backendDir.Path) { UploadFailure = new IOException("down") };
        await using var origin = await OriginHost.StartAsync(Configure, b => OriginHost.UseBackend(b, down));
        var (digest, data) = OriginHost.RandomBlob(100);

        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);
        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        Assert.Equal(1, origin.App.Services.GetRequiredService<WriteBackQueue>().Depth);
    }

    [Fact]
    public async Task Get_WriteBackListing_BadLimit_Returns400()
    {
        await using var origin = await OriginHost.StartAsync();
        using var response = await origin.Http.GetAsync("v1/writeback?limit=0");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData(1, 1000, 500, 1000)]
    [InlineData(2, 2000, 1000, 2000)]
    [InlineData(4, 8000, 4000, 8000)]
    [InlineData(30, 60_000, 30_000, 60_000)]
    public void BackOff_DoublesUpToTheMaximumWithJitter(int attempts, int nominalMs, int lowMs, int highMs)
    {
        var min = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromMinutes(1);
        Assert.Equal(TimeSpan.FromMilliseconds(nominalMs), WriteBackWorker.BackOff(attempts, min, max, 1.0));
        Assert.Equal(TimeSpan.FromMilliseconds(lowMs), WriteBackWorker.BackOff(attempts, min, max, 0.0));
        Assert.InRange(WriteBackWorker.BackOff(attempts, min, max, 0.5), TimeSpan.FromMilliseconds(lowMs), TimeSpan.FromMilliseconds(highMs));
    }

    private void Configure(OriginOptions options)
    {
        options.Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = _backendDir.Path };
        OriginHost.FastRetries(options);
    }
}
