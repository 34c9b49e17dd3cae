using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shoal.Clients;
using Shoal.Core;

namespace Shoal.Origin.Tests;

public sealed class UploadApiTests : IAsyncLifetime
{
    private OriginHost _origin = null!;

    public async Task InitializeAsync() => _origin = await OriginHost.StartAsync();

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task ChunkedUpload_ThenGet_ByteIdentical()
    {
        var (digest, data) = OriginHost.RandomBlob(1_000_003);
        var client = _origin.Client;

        var id = await client.StartUploadAsync("library/alpine", CancellationToken.None);
        long size = 0;
        foreach (var chunk in data.Chunk(400_000))
        {
            size = await client.AppendUploadAsync(id, new MemoryStream(chunk), chunk.Length, size, CancellationToken.None);
        }
        Assert.Equal(data.Length, size);
        await client.CommitUploadAsync(id, digest, replicate: true, CancellationToken.None);

        Assert.Equal(data, await _origin.GetBytesAsync(digest));
        Assert.False(await client.CancelUploadAsync(id, CancellationToken.None)); // the session ended with the commit
    }

    [Fact]
    public async Task ChunkedUpload_RawProtocol_HeadersAndFinalChunkInCommit()
    {
        var (digest, data) = OriginHost.RandomBlob(300);

        using var start = await _origin.Http.PostAsync("v1/uploads?namespace=team/app", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal($"/v1/uploads/{id}", start.Headers.Location?.OriginalString);

        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"v1/uploads/{id}") { Content = new ByteArrayContent(data[..100]) };
        patch.Content.Headers.TryAddWithoutValidation("Content-Range", "0-99");
        using var patched = await _origin.Http.SendAsync(patch);
        Assert.Equal(HttpStatusCode.Accepted, patched.StatusCode);
        Assert.Equal("0-99", patched.Headers.GetValues("Range").Single());

        using var status = await _origin.Http.GetAsync($"v1/uploads/{id}");
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
        Assert.Equal("0-99", status.Headers.GetValues("Range").Single());

        using var commit = await _origin.Http.PutAsync($"v1/uploads/{id}?digest={digest}", new ByteArrayContent(data[100..]));
        Assert.Equal(HttpStatusCode.Created, commit.StatusCode);
        Assert.Equal($"/v1/blobs/{digest}", commit.Headers.Location?.OriginalString);

        Assert.Equal(data, await _origin.GetBytesAsync(digest));
        Assert.True(_origin.Store.Stat(digest)!.Metadata.Persisted);
    }

    [Fact]
    public async Task Patch_WrongContentRange_Returns416WithCurrentRange()
    {
        var id = await _origin.Client.StartUploadAsync(null, CancellationToken.None);
        await _origin.Client.AppendUploadAsync(id, new MemoryStream(new byte[10]), 10, 0, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<ServiceException>(
            () => _origin.Client.AppendUploadAsync(id, new MemoryStream(new byte[10]), 10, 0, CancellationToken.None));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, ex.StatusCode);

        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"v1/uploads/{id}") { Content = new ByteArrayContent(new byte[5]) };
        patch.Content.Headers.TryAddWithoutValidation("Content-Range", "20-24");
        using var response = await _origin.Http.SendAsync(patch);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("0-9", response.Headers.GetValues("Range").Single());

        // Nothing was appended by the refused chunks.
        Assert.Equal(15, await _origin.Client.AppendUploadAsync(id, new MemoryStream(new byte[5]), 5, 10, CancellationToken.None));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0-")]
    [InlineData("5-2")]
    public async Task Patch_MalformedContentRange_Returns400(string contentRange)
    {
        var id = await _origin.Client.StartUploadAsync(null, CancellationToken.None);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"v1/uploads/{id}") { Content = new ByteArrayContent(new byte[4]) };
        patch.Content.Headers.TryAddWithoutValidation("Content-Range", contentRange);
        using var response = await _origin.Http.SendAsync(patch);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")] // well-formed, never issued
    [InlineData("not-an-id")]
    [InlineData("..%2F..%2Fetc")]
    public async Task AllUploadRoutes_UnknownId_Return404(string id)
    {
        var digest = Digest.Compute("x"u8);
        foreach (var (method, query) in new[] { ("PATCH", ""), ("GET", ""), ("PUT", $"?digest={digest}"), ("DELETE", "") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), $"v1/uploads/{id}{query}");
            if (method is "PATCH" or "PUT")
            {
                request.Content = new ByteArrayContent([1]);
            }
            using var response = await _origin.Http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} answered {response.StatusCode}");
        }
        Assert.False(_origin.Store.Contains(digest));
    }

    [Fact]
    public async Task Commit_DigestMismatch_Returns400KeepsSessionAndStoresNothing()
    {
        var (digest, data) = OriginHost.RandomBlob(2000);
        var id = await _origin.Client.StartUploadAsync(null, CancellationToken.None);
        await _origin.Client.AppendUploadAsync(id, new MemoryStream(data, 0, 1000), 1000, 0, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<ServiceException>(() => _origin.Client.CommitUploadAsync(id, digest, replicate: true, CancellationToken.None));

        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.False(_origin.Store.Contains(digest));
        Assert.Empty(_origin.BlobFiles());
        // The client can still finish the upload.
        await _origin.Client.AppendUploadAsync(id, new MemoryStream(data, 1000, 1000), 1000, 1000, CancellationToken.None);
        await _origin.Client.CommitUploadAsync(id, digest, replicate: true, CancellationToken.None);
        Assert.Equal(data, await _origin.GetBytesAsync(digest));
    }

    [Fact]
    public async Task Commit_MissingOrMalformedDigest_Returns400()
    {
        var id = await _origin.Client.StartUploadAsync(null, CancellationToken.None);
        using var missing = await _origin.Http.PutAsync($"v1/uploads/{id}", null);
        using var malformed = await _origin.Http.PutAsync($"v1/uploads/{id}?digest=md5:abc", null);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("not supported", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_ThenTheSessionIsGone()
    {
        var id = await _origin.Client.StartUploadAsync(null, CancellationToken.None);
        await _origin.Client.AppendUploadAsync(id, new MemoryStream(new byte[100]), 100, null, CancellationToken.None);

        Assert.True(await _origin.Client.CancelUploadAsync(id, CancellationToken.None));

        using var response = await _origin.Http.GetAsync($"v1/uploads/{id}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(_origin.DataDir, "uploads", id)));
    }

    [Fact]
    public async Task ExpiredSessions_ArePurgedOnTheClock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var origin = await OriginHost.StartAsync(
            o => o.UploadSessionTtl = TimeSpan.FromHours(1),
            b => b.Services.AddSingleton<TimeProvider>(time));
        var old = await origin.Client.StartUploadAsync(null, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(30));
        var young = await origin.Client.StartUploadAsync(null, CancellationToken.None);

        // 46 minutes later: the old session is 76 minutes old, the young one 46; the 15-minute timer has ticked.
        time.Advance(TimeSpan.FromMinutes(46));

        await OriginHost.WaitUntilAsync(async () =>
        {
            using var response = await origin.Http.GetAsync($"v1/uploads/{old}");
            return response.StatusCode == HttpStatusCode.NotFound;
        }, "the expired session is purged");
        using var survivor = await origin.Http.GetAsync($"v1/uploads/{young}");
        Assert.Equal(HttpStatusCode.NoContent, survivor.StatusCode);
    }

    [Fact]
    public async Task Start_InvalidNamespace_Returns400()
    {
        using var response = await _origin.Http.PostAsync("v1/uploads?namespace=..%2Fx", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(Directory.GetDirectories(Path.Combine(_origin.DataDir, "uploads")));
    }

    [Fact]
    public async Task ConcurrentChunkedAndMonolithicUploadsOfOneBlob_AllSucceedWithOneCopy()
    {
        var (digest, data) = OriginHost.RandomBlob(500_000);
        var chunked = Task.Run(async () =>
        {
            var id = await _origin.Client.StartUploadAsync(null, CancellationToken.None);
            await _origin.Client.AppendUploadAsync(id, new MemoryStream(data), data.Length, 0, CancellationToken.None);
            await _origin.Client.CommitUploadAsync(id, digest, replicate: true, CancellationToken.None);
        });
        var monolithic = _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        await Task.WhenAll(chunked, monolithic);

        Assert.Single(_origin.Store.Enumerate());
        Assert.Empty(_origin.TempFiles());
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await _origin.GetBytesAsync(digest)));
    }
}
