using System.Net;
using System.Net.Sockets;
using Shoal.Clients.Origin;
using Shoal.Hosting;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.TestKit;

namespace Shoal.Proxy.Tests;

/// <summary>Origins or build-index gone: registry errors with 503 UNAVAILABLE, never an unhandled 500.</summary>
public sealed class UpstreamFailureTests : IAsyncLifetime
{
    private ProxyCluster _cluster = null!;

    private HttpClient Http => _cluster.Http;

    public async Task InitializeAsync() => _cluster = await ProxyCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task OriginDown_PullAndPush_Return503Unavailable()
    {
        var repo = "team/app";
        var image = await _cluster.PushImageAsync(repo, "v1");
        var layer = await _cluster.PushBlobAsync(repo, TestData.RandomBytes(1000));
        var location = await _cluster.StartUploadAsync(repo);
        var data = TestData.RandomBytes(500);
        using (var patch = await _cluster.PatchAsync(location, data))
        {
            await RegistryAssert.StatusAsync(patch, HttpStatusCode.Accepted);
        }

        await _cluster.OriginApp.StopAsync();

        using var blob = await Http.GetAsync($"/v2/{repo}/blobs/{layer}");
        await RegistryAssert.ErrorAsync(blob, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        using var manifest = await Http.GetAsync($"/v2/{repo}/manifests/v1");
        await RegistryAssert.ErrorAsync(manifest, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        using var commit = await _cluster.CompleteAsync(location, Digest.Compute(data).ToString());
        await RegistryAssert.ErrorAsync(commit, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        using var monolithic = await _cluster.PostBlobAsync(repo, Digest.Compute(data).ToString(), data);
        await RegistryAssert.ErrorAsync(monolithic, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        using var push = await _cluster.PutManifestAsync(repo, "v2", image.Manifest, image.MediaType);
        await RegistryAssert.ErrorAsync(push, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);

        // Nothing half-done became visible, and the chunked session survives for a retry.
        Assert.False(await _cluster.BuildIndex.HasBlobLinkAsync(repo, Digest.Compute(data), CancellationToken.None));
        Assert.Null(await _cluster.BuildIndex.GetTagAsync(repo, "v2", CancellationToken.None));
        using var status = await Http.GetAsync(location);
        await RegistryAssert.StatusAsync(status, HttpStatusCode.NoContent);
        Assert.Equal("0-499", RegistryAssert.Header(status, "Range"));
        using var readiness = await Http.GetAsync("/readiness");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
    }

    [Fact]
    public async Task OriginHangs_ReadsFailOverToTheNextOwnerAfterOriginTimeout()
    {
        // An "origin" that accepts connections (the kernel completes the handshake) and never answers.
        using var hung = new TcpListener(IPAddress.Loopback, 0);
        hung.Start();
        var hungUri = new Uri($"http://127.0.0.1:{((IPEndPoint)hung.LocalEndpoint).Port}/");
        var realUri = _cluster.OriginApp.BaseAddress();
        using var probe = new HttpClient();
        var order = new OriginCluster(probe, [hungUri, realUri], replicas: 2);
        var repo = "team/app";
        byte[] data;
        Digest digest;
        do
        {
            data = TestData.RandomBytes(2000);
            digest = Digest.Compute(data);
        }
        while (order.ByPreference(digest)[0].BaseAddress != hungUri); // the hung origin is asked first
        await _cluster.PushBlobAsync(repo, data);

        var options = _cluster.Options;
        await using var proxy = ProxyServer.Build(new ProxyOptions
        {
            DataDir = options.DataDir + "-second",
            Listen = { Port = 0 },
            Origins = [hungUri.AbsoluteUri, realUri.AbsoluteUri],
            Replicas = 2,
            BuildIndex = options.BuildIndex,
            OriginTimeout = TimeSpan.FromSeconds(1),
        }, ProxyCluster.Quiet);
        await proxy.StartAsync();
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress(), Timeout = TimeSpan.FromSeconds(30) };

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var head = new HttpRequestMessage(HttpMethod.Head, $"/v2/{repo}/blobs/{digest}"))
        using (var answer = await http.SendAsync(head))
        {
            await RegistryAssert.StatusAsync(answer, HttpStatusCode.OK);
        }
        Assert.Equal(data, await http.GetByteArrayAsync($"/v2/{repo}/blobs/{digest}"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task BuildIndexDown_EveryRepositoryCall_Returns503Unavailable()
    {
        var repo = "team/app";
        var image = await _cluster.PushImageAsync(repo, "v1");
        var data = TestData.RandomBytes(100);

        await _cluster.BuildIndexApp.StopAsync();

        var requests = new Func<Task<HttpResponseMessage>>[]
        {
            () => Http.GetAsync($"/v2/{repo}/manifests/v1"),
            () => Http.GetAsync($"/v2/{repo}/manifests/{image.Digest}"),
            () => Http.GetAsync($"/v2/{repo}/blobs/{image.Digest}"),
            () => Http.GetAsync($"/v2/{repo}/tags/list"),
            () => Http.GetAsync("/v2/_catalog"),
            () => _cluster.PostBlobAsync(repo, Digest.Compute(data).ToString(), data),
            () => _cluster.PutManifestAsync(repo, "v2", image.Manifest, image.MediaType),
            () => Http.DeleteAsync($"/v2/{repo}/manifests/v1"),
        };
        foreach (var send in requests)
        {
            using var response = await send();
            await RegistryAssert.ErrorAsync(response, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        }
        using var readiness = await Http.GetAsync("/readiness");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
        // The bytes reached the origin, but without the link the blob is not part of any repository.
        Assert.Empty(_cluster.ProxySessions(repo));
    }

    [Fact]
    public async Task ProxyWithUnreachableOrigin_Push_Returns503()
    {
        var deadPort = FreePort.Next();
        await using var cluster = await ProxyCluster.StartAsync(o => o.Origins = [$"http://127.0.0.1:{deadPort}/"]);
        var data = TestData.RandomBytes(100);

        using var response = await cluster.PostBlobAsync("team/app", Digest.Compute(data).ToString(), data);

        var message = await RegistryAssert.ErrorAsync(response, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        Assert.Contains("reachable", message, StringComparison.Ordinal);
        Assert.False(await cluster.BuildIndex.HasBlobLinkAsync("team/app", Digest.Compute(data), CancellationToken.None));
    }
}
