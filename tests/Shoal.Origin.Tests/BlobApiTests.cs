using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Clients;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.Hosting;
using Shoal.Origin.Internal;

namespace Shoal.Origin.Tests;

public sealed class BlobApiTests : IAsyncLifetime
{
    private OriginHost _origin = null!;

    public async Task InitializeAsync() => _origin = await OriginHost.StartAsync();

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task Put_ThenGet_ByteIdentical()
    {
        var (digest, data) = OriginHost.RandomBlob(1_300_017);

        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "library/ubuntu", replicate: true, CancellationToken.None);

        Assert.Equal(data, await _origin.GetBytesAsync(digest));
        Assert.Equal(data.Length, await _origin.Client.StatAsync(digest, "library/ubuntu", CancellationToken.None));
    }

    [Fact]
    public async Task Put_Twice_Returns201BothTimes()
    {
        var (digest, data) = OriginHost.RandomBlob(1000);
        for (var i = 0; i < 2; i++)
        {
            using var response = await _origin.Http.PutAsync($"v1/blobs/{digest}", new ByteArrayContent(data));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal($"/v1/blobs/{digest}", response.Headers.Location?.OriginalString);
            Assert.Equal(digest.ToString(), response.Headers.GetValues("Docker-Content-Digest").Single());
        }
        Assert.Single(_origin.Store.Enumerate());
    }

    [Fact]
    public async Task Put_Empty_RoundTrips()
    {
        var digest = Digest.Compute([]);
        await _origin.Client.UploadAsync(digest, new MemoryStream(), 0, null, replicate: true, CancellationToken.None);
        Assert.Empty(await _origin.GetBytesAsync(digest));
    }

    [Fact]
    public async Task Put_WithoutBackend_MarksBlobPersisted()
    {
        var (digest, data) = OriginHost.RandomBlob(100);
        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);
        Assert.True(_origin.Store.Stat(digest)!.Metadata.Persisted);
    }

    [Fact]
    public async Task Get_Range_Returns206WithThatSlice()
    {
        var (digest, data) = OriginHost.RandomBlob(5000);
        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(100, 199);
        using var response = await _origin.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 100-199/5000", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(data.AsSpan(100, 100).ToArray(), await response.Content.ReadAsByteArrayAsync());

        await using var blob = await _origin.Client.OpenReadAsync(digest, null, new ByteRange(4990, null), CancellationToken.None);
        Assert.NotNull(blob);
        Assert.Equal(4990, blob.Offset);
        Assert.Equal(5000, blob.TotalLength);
        Assert.Equal(10, blob.ContentLength);
    }

    [Fact]
    public async Task Get_RangePastEnd_Returns416()
    {
        var (digest, data) = OriginHost.RandomBlob(100);
        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(100, 200);
        using var response = await _origin.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */100", response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task Head_Present_ReturnsLengthWithoutBody()
    {
        var (digest, data) = OriginHost.RandomBlob(777);
        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        using var response = await _origin.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"v1/blobs/{digest}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(777, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetAndHead_Missing_Return404Problem()
    {
        var digest = Digest.Compute("never uploaded"u8);

        Assert.Null(await _origin.Client.StatAsync(digest, null, CancellationToken.None));
        Assert.Null(await _origin.Client.OpenReadAsync(digest, null, null, CancellationToken.None));
        Assert.Null(await _origin.Client.GetMetaInfoAsync(digest, null, CancellationToken.None));
        using var response = await _origin.Http.GetAsync($"v1/blobs/{digest}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("sha512:abcd", "not supported")]
    [InlineData("nonsense", "algorithm:hex")]
    [InlineData("sha256:abc", "64 hex")]
    [InlineData("sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789", "lowercase")]
    public async Task AllBlobRoutes_MalformedDigest_Return400WithReason(string digest, string reason)
    {
        foreach (var (method, path) in new[] { ("GET", ""), ("HEAD", ""), ("GET", "/metainfo"), ("PUT", ""), ("DELETE", "") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), $"v1/blobs/{digest}{path}");
            if (method == "PUT")
            {
                request.Content = new ByteArrayContent([1, 2, 3]);
            }
            using var response = await _origin.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            if (method != "HEAD")
            {
                Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Put_InvalidNamespaceOrReplicate_Returns400()
    {
        var (digest, data) = OriginHost.RandomBlob(10);
        using var badNamespace = await _origin.Http.PutAsync($"v1/blobs/{digest}?namespace=Upper/Case", new ByteArrayContent(data));
        using var badReplicate = await _origin.Http.PutAsync($"v1/blobs/{digest}?replicate=maybe", new ByteArrayContent(data));

        Assert.Equal(HttpStatusCode.BadRequest, badNamespace.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badReplicate.StatusCode);
        Assert.False(_origin.Store.Contains(digest));
    }

    [Fact]
    public async Task GetMetaInfo_ChainingValuesMatchTheBlobsOwnSha256()
    {
        var (digest, data) = OriginHost.RandomBlob(PieceLengthPolicy.MinPieceLength * 3 + 12345);
        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        var info = await _origin.Client.GetMetaInfoAsync(digest, null, CancellationToken.None);

        Assert.NotNull(info);
        Assert.Equal(digest, info.Digest);
        Assert.Equal(data.Length, info.Length);
        var pieceLength = PieceLengthPolicy.For(data.Length);
        Assert.Equal(pieceLength, info.PieceLength);
        var expectedPieces = (data.Length + pieceLength - 1) / pieceLength;
        Assert.Equal(expectedPieces, info.PieceCount);
        for (var i = 0; i < expectedPieces; i++)
        {
            var piece = data.AsSpan(i * pieceLength, Math.Min(pieceLength, data.Length - i * pieceLength));
            Assert.True(info.VerifyPiece(i, piece));
            // The value after piece i is the state of the blob's own SHA-256 there: hashing the
            // rest of the blob on from it gives the digest .NET computes over the whole.
            var end = (i * pieceLength) + piece.Length;
            var rest = info.ChainingValue(i).ToArray();
            if (i < expectedPieces - 1)
            {
                Sha256Chain.Finish(info.ChainingValue(i), end, data.AsSpan(end), rest);
            }
            Assert.Equal(SHA256.HashData(data), rest);
        }
    }

    [Fact]
    public async Task Put_DigestMismatch_Returns400AndLeavesNothing()
    {
        var (digest, _) = OriginHost.RandomBlob(1000);
        var other = RandomNumberGenerator.GetBytes(200_000);

        var ex = await Assert.ThrowsAsync<ServiceException>(
            () => _origin.Client.UploadAsync(digest, new MemoryStream(other), other.Length, null, replicate: true, CancellationToken.None));

        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Contains("does not match", ex.Detail, StringComparison.Ordinal);
        Assert.False(_origin.Store.Contains(digest));
        Assert.False(_origin.Store.Contains(Digest.Compute(other)));
        Assert.Null(await _origin.Client.StatAsync(digest, null, CancellationToken.None));
        Assert.Empty(_origin.TempFiles());
        Assert.Empty(_origin.BlobFiles());
    }

    [Fact]
    public async Task Put_ConcurrentSameDigest_BothSucceedAndOneCopyExists()
    {
        var (digest, data) = OriginHost.RandomBlob(3_000_000);

        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None)));

        Assert.Equal(digest, Assert.Single(_origin.Store.Enumerate()).Digest);
        Assert.Single(_origin.BlobFiles(), f => Path.GetFileName(f) == "data");
        Assert.Empty(_origin.TempFiles());
        Assert.Equal(data, await _origin.GetBytesAsync(digest));
    }

    [Fact]
    public async Task Delete_Present_RemovesCachedCopy()
    {
        var (digest, data) = OriginHost.RandomBlob(10);
        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        Assert.True(await _origin.Client.DeleteAsync(digest, CancellationToken.None));
        Assert.Null(await _origin.Client.StatAsync(digest, null, CancellationToken.None));
        Assert.False(await _origin.Client.DeleteAsync(digest, CancellationToken.None));
    }

    [Fact]
    public async Task HealthAndReadiness_WritableDataDir_Ok()
    {
        using var health = await _origin.Http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(await _origin.Client.IsReadyAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Readiness_DataDirUnwritable_Returns503()
    {
        // Root ignores permission bits, so make the directory impossible instead: a file in its place.
        Directory.Delete(_origin.DataDir, recursive: true);
        await File.WriteAllTextAsync(_origin.DataDir, "not a directory");

        using var response = await _origin.Http.GetAsync("readiness");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("not writable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        File.Delete(_origin.DataDir);
    }

    [Fact]
    public async Task Get_Served_CountsBytesOnTheOriginMeter()
    {
        var (digest, data) = OriginHost.RandomBlob(4096);
        await _origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);
        var meter = _origin.App.Services.GetRequiredService<OriginMetrics>().Meter;
        Assert.Equal(OriginMetrics.MeterName, meter.Name);
        long served = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "shoal.origin.bytes_served")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref served, value));
        listener.Start();

        await _origin.GetBytesAsync(digest);
        await using (await _origin.Client.OpenReadAsync(digest, null, new ByteRange(0, 9), CancellationToken.None))
        {
        }
        await _origin.Client.StatAsync(digest, null, CancellationToken.None); // HEAD sends no bytes

        await OriginHost.WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref served) >= 4096 + 10), "the bytes are counted");
        Assert.Equal(4096 + 10, Interlocked.Read(ref served));
    }
}
