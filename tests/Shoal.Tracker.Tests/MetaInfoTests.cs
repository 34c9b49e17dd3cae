using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Clients;
using Shoal.Core;
using Shoal.Tracker.Internal;

namespace Shoal.Tracker.Tests;

/// <summary>
/// Metainfo proxied from a real HTTP origin: <see cref="FakeOrigin"/>, a minimal in-test Kestrel app
/// serving <c>/v1/blobs/{digest}/metainfo</c> with metainfo computed by Shoal.Core's BlobHasher
/// (the tracker's tests cannot reference Shoal.Origin).
/// </summary>
public sealed class MetaInfoTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private FakeOrigin _origin = null!;
    private TrackerHost _tracker = null!;

    public async Task InitializeAsync()
    {
        _origin = await FakeOrigin.StartAsync();
        _tracker = await TrackerHost.StartAsync(o => o.Origins = [_origin.BaseAddress.ToString()]);
    }

    public async Task DisposeAsync()
    {
        await _tracker.DisposeAsync();
        await _origin.DisposeAsync();
    }

    [Fact]
    public async Task GetMetaInfo_BlobOnTheOrigin_ReturnsTheOriginsMetaInfo()
    {
        var content = new byte[(1024 * 1024) + 17];
        new Random(7).NextBytes(content);
        var expected = await _origin.AddAsync(content);

        var info = await _tracker.Client.GetMetaInfoAsync(expected.Digest, "library/nginx", Ct);

        Assert.NotNull(info);
        Assert.Equal(Digest.Compute(content), info.Digest);
        Assert.Equal(content.Length, info.Length);
        Assert.Equal(expected.PieceCount, info.PieceCount);
        Assert.True(info.PieceCount > 1);
        Assert.Equal(expected.InfoHash, info.InfoHash);
        Assert.True(info.VerifyPiece(0, content.AsSpan(0, info.PieceSize(0))));
        Assert.Equal("library/nginx", _origin.LastNamespace);
    }

    [Fact]
    public async Task GetMetaInfo_AskedAgainAfterTheOriginStopped_IsServedFromTheCache()
    {
        var expected = await _origin.AddAsync("cached"u8.ToArray());
        await _tracker.Client.GetMetaInfoAsync(expected.Digest, null, Ct);
        await _origin.DisposeAsync();

        var info = await _tracker.Client.GetMetaInfoAsync(expected.Digest, null, Ct);

        Assert.Equal(expected.InfoHash, info!.InfoHash);
        Assert.Equal(1, _origin.Requests);
    }

    [Fact]
    public async Task GetMetaInfo_NoOriginHasTheBlob_ReturnsNull()
    {
        Assert.Null(await _tracker.Client.GetMetaInfoAsync(Digest.Compute("absent"u8), null, Ct));
        Assert.Equal(1, _origin.Requests);
    }

    [Fact]
    public async Task GetMetaInfo_ConcurrentMisses_ShareOneOriginRequest()
    {
        var expected = await _origin.AddAsync("popular"u8.ToArray());
        _origin.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = _tracker.Services.GetRequiredService<MetaInfoHandler>();

        var requests = Enumerable.Range(0, 8).Select(_ => _tracker.Client.GetMetaInfoAsync(expected.Digest, null, Ct)).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (handler.SharedWaits < 7 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        _origin.Gate.SetResult();
        var answers = await Task.WhenAll(requests);

        Assert.Equal(7, handler.SharedWaits);
        Assert.All(answers, a => Assert.Equal(expected.InfoHash, a!.InfoHash));
        Assert.Equal(1, _origin.Requests);
    }

    [Fact]
    public async Task GetMetaInfo_OriginFetchingTheBlob_Answers202WithItsRetryAfter_NotCached()
    {
        var expected = await _origin.AddAsync("cold"u8.ToArray());
        _origin.Fetching(expected.Digest);

        var first = await _tracker.Client.LookupMetaInfoAsync(expected.Digest, null, Ct);
        Assert.True(first.Pending);
        Assert.Equal(TimeSpan.FromSeconds(2), first.RetryAfter);
        using (var raw = await _tracker.Http.GetAsync($"v1/metainfo/{expected.Digest}", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, raw.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), raw.Headers.RetryAfter?.Delta);
        }

        _origin.Fetched(expected.Digest);
        var info = await _tracker.Client.LookupMetaInfoAsync(expected.Digest, null, Ct);
        Assert.Equal(expected.InfoHash, info.Info!.InfoHash);
        Assert.Equal(3, _origin.Requests); // "pending" was never cached
    }

    [Fact]
    public async Task GetMetaInfo_FirstOwnerLacksTheBlob_TheSecondOwnerIsAsked()
    {
        await using var other = await FakeOrigin.StartAsync();
        await using var tracker = await TrackerHost.StartAsync(o => o.Origins = [_origin.BaseAddress.ToString(), other.BaseAddress.ToString()]);
        var content = "on the second owner"u8.ToArray();
        var digest = Digest.Compute(content);
        using var http = new HttpClient();
        var order = new Shoal.Clients.Origin.OriginCluster(http, [_origin.BaseAddress, other.BaseAddress]).ByPreference(digest);
        var (first, second) = order[0].BaseAddress == _origin.BaseAddress ? (_origin, other) : (other, _origin);
        var expected = await second.AddAsync(content);

        var info = await tracker.Client.GetMetaInfoAsync(digest, null, Ct);

        Assert.Equal(expected.InfoHash, info!.InfoHash);
        Assert.Equal(1, first.Requests); // asked first, said 404
        Assert.Equal(1, second.Requests);
    }

    [Fact]
    public async Task GetMetaInfo_OriginAnswersGarbage_Returns502()
    {
        var digest = Digest.Compute("garbage"u8);
        _origin.AnswerGarbageFor(digest);

        var ex = await Assert.ThrowsAsync<ServiceException>(() => _tracker.Client.GetMetaInfoAsync(digest, null, Ct));

        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
    }

    [Fact]
    public async Task GetMetaInfo_NoOriginReachable_Returns503()
    {
        await using var tracker = await TrackerHost.StartAsync(o => o.Origins = [ClosedPortUrl(), ClosedPortUrl()]);

        var ex = await Assert.ThrowsAsync<ServiceException>(() => tracker.Client.GetMetaInfoAsync(Digest.Compute("x"u8), null, Ct));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Contains("no origin is reachable", ex.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1/metainfo/sha256:abc")]
    [InlineData("v1/metainfo/md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("v1/metainfo/sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824?namespace=Bad..Name")]
    public async Task GetMetaInfo_InvalidRequest_Returns400WithoutAskingTheOrigin(string path)
    {
        using var response = await _tracker.Http.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, _origin.Requests);
    }

    private static string ClosedPortUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/";
    }
}
