using Shoal.TestKit;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shoal.Clients.Origin;
using Shoal.Core.Registry;

namespace Shoal.Agent.Tests;

/// <summary>404 means "not here, try the next host"; 503 means "Shoal cannot serve this now"; corrupt bytes never leave the agent.</summary>
public sealed class AgentFailureTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task GetBlob_OriginStopped_Returns503Unavailable()
    {
        await using var cluster = await TestCluster.StartAsync();
        var digest = await cluster.PushBlobAsync(TestData.Repository, TestData.Random(10_000));
        await cluster.StopOriginAsync();

        using var get = await cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");
        using var head = await cluster.Agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{TestData.Repository}/blobs/{digest}"));

        await RegistryAssert.ErrorAsync(get, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, head.StatusCode);
        Assert.Equal(1, cluster.Agent.Stats.DownloadsFailed);
    }

    [Fact]
    public async Task GetManifest_OriginStopped_Returns503Unavailable()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.PushImageAsync(TestData.Repository, "v1", MediaTypes.OciManifest);
        await cluster.StopOriginAsync();

        using var response = await cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/v1");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
    }

    [Fact]
    public async Task GetManifest_BuildIndexStopped_Returns503Unavailable()
    {
        await using var cluster = await TestCluster.StartAsync();
        var (digest, _) = await cluster.PushImageAsync(TestData.Repository, "v1", MediaTypes.OciManifest);
        await cluster.StopBuildIndexAsync();

        using var byTag = await cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/v1");
        using var byDigest = await cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/{digest}");
        using var tags = await cluster.Agent.Client.GetAsync($"/v2/{TestData.Repository}/tags/list");

        await RegistryAssert.ErrorAsync(byTag, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        await RegistryAssert.ErrorAsync(byDigest, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        await RegistryAssert.ErrorAsync(tags, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
    }

    [Fact]
    public async Task GetManifest_BuildIndexAnswers500_Returns503Unavailable()
    {
        await using var origin = await FakeOrigin.StartAsync();
        await using var index = await FakeBuildIndex.StartAsync();
        index.Failing = true;
        await using var agent = await AgentHost.StartAsync(_dir.Combine("agent"), index.BaseAddress, [origin.BaseAddress]);

        using var response = await agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/v1");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
    }

    [Fact]
    public async Task GetBlob_OriginAnswers500_Returns503Unavailable()
    {
        await using var origin = await FakeOrigin.StartAsync();
        await using var index = await FakeBuildIndex.StartAsync();
        var digest = origin.Add(TestData.Random(1000));
        origin.Mode = FakeOrigin.Behaviour.Fail;
        await using var agent = await AgentHost.StartAsync(_dir.Combine("agent"), index.BaseAddress, [origin.BaseAddress]);

        using var get = await agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");
        using var head = await agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{TestData.Repository}/blobs/{digest}"));

        await RegistryAssert.ErrorAsync(get, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, head.StatusCode);
    }

    [Fact]
    public async Task GetBlob_OriginServesCorruptBytes_NeverServedNorStoredAndLaterRetried()
    {
        await using var origin = await FakeOrigin.StartAsync();
        await using var index = await FakeBuildIndex.StartAsync();
        var content = TestData.Random(200_000);
        var digest = origin.Add(content);
        origin.Mode = FakeOrigin.Behaviour.Corrupt;
        await using var agent = await AgentHost.StartAsync(_dir.Combine("agent"), index.BaseAddress, [origin.BaseAddress]);

        using var corrupt = await agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");

        await RegistryAssert.ErrorAsync(corrupt, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        Assert.False(agent.Store.Contains(digest));
        Assert.Empty(agent.Files());
        Assert.Equal(0, agent.Stats.BlobsDownloaded);

        // The failure is not remembered: once the origin is healthy the next request downloads.
        origin.Mode = FakeOrigin.Behaviour.Honest;
        using var healthy = await agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal(content, await healthy.Content.ReadAsByteArrayAsync());
        Assert.Equal(2, origin.Gets);
    }

    [Fact]
    public async Task GetManifest_OriginServesCorruptBytes_NeverServedNorStored()
    {
        await using var origin = await FakeOrigin.StartAsync();
        await using var index = await FakeBuildIndex.StartAsync();
        var manifest = TestData.Manifest(MediaTypes.OciManifest, Shoal.Core.Digest.Compute([1]), 1, Shoal.Core.Digest.Compute([2]), 1);
        var digest = origin.Add(manifest);
        index.Manifest(TestData.Repository, digest, MediaTypes.OciManifest, manifest.Length);
        index.Tag(TestData.Repository, "v1", digest);
        origin.Mode = FakeOrigin.Behaviour.Corrupt;
        await using var agent = await AgentHost.StartAsync(_dir.Combine("agent"), index.BaseAddress, [origin.BaseAddress]);

        using var response = await agent.Client.GetAsync($"/v2/{TestData.Repository}/manifests/v1");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        Assert.False(agent.Store.Contains(digest));
        Assert.Empty(agent.Files());
    }

    [Fact]
    public async Task GetBlob_PreferredOriginCorrupt_ServedFromTheNextOrigin()
    {
        await using var first = await FakeOrigin.StartAsync();
        await using var second = await FakeOrigin.StartAsync();
        await using var index = await FakeBuildIndex.StartAsync();
        var content = TestData.Random(50_000);
        var digest = first.Add(content);
        second.Add(content);
        using var http = new HttpClient();
        var preferred = new OriginCluster(http, [first.BaseAddress, second.BaseAddress], 2).ByPreference(digest)[0].BaseAddress;
        var (bad, good) = preferred == first.BaseAddress ? (first, second) : (second, first);
        bad.Mode = FakeOrigin.Behaviour.Corrupt;
        await using var agent = await AgentHost.StartAsync(_dir.Combine("agent"), index.BaseAddress, [first.BaseAddress, second.BaseAddress]);

        using var response = await agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, bad.Gets);
        Assert.Equal(1, good.Gets);
    }

    [Fact]
    public async Task GetBlob_OriginStallsMidTransfer_Returns503AfterTheUpstreamTimeout()
    {
        await using var origin = await FakeOrigin.StartAsync();
        await using var index = await FakeBuildIndex.StartAsync();
        var digest = origin.Add(TestData.Random(1_000_000));
        origin.Mode = FakeOrigin.Behaviour.Stall;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var agent = await AgentHost.StartAsync(_dir.Combine("agent"), index.BaseAddress, [origin.BaseAddress],
            configure: builder => builder.Services.AddSingleton<TimeProvider>(time));

        var pending = agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!pending.IsCompleted && DateTime.UtcNow < deadline)
        {
            // The agent arms its timer when the transfer starts; keep moving fake time past it until it fires.
            time.Advance(agent.Options.UpstreamTimeout);
            await Task.WhenAny(pending, Task.Delay(50));
        }

        Assert.True(pending.IsCompleted, "the stalled download was never abandoned");
        using var response = await pending;
        await RegistryAssert.ErrorAsync(response, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        Assert.False(agent.Store.Contains(digest));
        Assert.Empty(agent.Files());
    }

    [Fact]
    public async Task GetBlob_TwentyRequestsWhileTheOriginHoldsTheTransfer_OneOriginRequest()
    {
        await using var origin = await FakeOrigin.StartAsync();
        await using var index = await FakeBuildIndex.StartAsync();
        var content = TestData.Random(1_000_000);
        var digest = origin.Add(content);
        origin.Hold();
        await using var agent = await AgentHost.StartAsync(_dir.Combine("agent"), index.BaseAddress, [origin.BaseAddress]);

        var requests = Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }).ToArray();
        await Poll.UntilAsync(() => agent.Stats.DownloadsJoined == 19);
        origin.Release();
        var bodies = await Task.WhenAll(requests);

        Assert.All(bodies, body => Assert.True(body.AsSpan().SequenceEqual(content)));
        Assert.Equal(1, origin.Gets);
        Assert.Equal(1, agent.Stats.DownloadsStarted);
        Assert.Equal(1, agent.Stats.BlobsDownloaded);
    }
}
