using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Shoal.Core.Registry;
using Shoal.Proxy.Preheat;
using Shoal.TestKit;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>Shoal's own <c>/v1/preheat/jobs</c> API, persistence and the job registry.</summary>
public sealed class JobApiTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> CreateAsync(PreheatCluster cluster, string json)
    {
        using var response = await cluster.Http.SendAsync(PreheatCluster.Authorized(HttpMethod.Post, "/v1/preheat/jobs", json));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task Create_ImageOfAConfiguredUpstream_SelectedPlatformOnly()
    {
        await using var cluster = await PreheatCluster.StartAsync();
        var repo = TestData.Repo("plat");
        var amd = cluster.AddImage(repo, null);
        var arm = cluster.AddImage(repo, null);
        cluster.AddIndex(repo, "multi", MediaTypes.DockerManifestList, amd, arm);
        var image = $"{cluster.Upstream.BaseAddress.Authority}/{repo}:multi";

        var (status, created) = await CreateAsync(cluster, $$"""{"image":"{{image}}","scope":"all_seed_peers","platforms":["linux/arm64"]}""");

        Assert.Equal(HttpStatusCode.Created, status);
        var job = await cluster.WaitForJobAsync(created.GetProperty("id").GetInt64());
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.All(arm.Blobs, b => Assert.Equal(2, cluster.Holders(b)));
        Assert.All(amd.Blobs, b => Assert.Equal(0, cluster.Holders(b)));
        Assert.All(job.GetProperty("blobs").EnumerateArray(), b => Assert.Equal("linux/arm64", b.GetProperty("platform").GetString()));
        Assert.Equal(job.GetProperty("totalBytes").GetInt64(), job.GetProperty("doneBytes").GetInt64());
    }

    [Fact]
    public async Task Create_ImageInShoalsBuildIndex_FetchesTheManifestFromShoal()
    {
        await using var cluster = await PreheatCluster.StartAsync();
        var repo = TestData.Repo("own");
        // Push through the proxy's registry API: blobs land in the origins, the tag in build-index.
        var registry = new HttpClient { BaseAddress = cluster.Http.BaseAddress };
        var config = TestData.Config();
        async Task<Shoal.Core.Digest> Push(byte[] data)
        {
            var digest = Shoal.Core.Digest.Compute(data);
            using var r = await registry.PostAsync($"/v2/{repo}/blobs/uploads/?digest={digest}", new ByteArrayContent(data));
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            return digest;
        }
        var configDigest = await Push(config);
        var layer = TestData.RandomBytes(3000);
        var layerDigest = await Push(layer);
        var manifest = TestData.ImageManifest(MediaTypes.OciManifest, (configDigest, config.Length), [(layerDigest, layer.Length)]);
        var put = new ByteArrayContent(manifest);
        put.Headers.ContentType = new(MediaTypes.OciManifest);
        using (var r = await registry.PutAsync($"/v2/{repo}/manifests/v7", put))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        registry.Dispose();
        var upstreamRequests = cluster.Upstream.Requests.Count;

        var (status, created) = await CreateAsync(cluster, $$"""{"image":"{{repo}}:v7","scope":"all_seed_peers"}""");

        Assert.Equal(HttpStatusCode.Created, status);
        var job = await cluster.WaitForJobAsync(created.GetProperty("id").GetInt64());
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal(2, job.GetProperty("blobs").GetArrayLength());
        Assert.Equal(2, cluster.Holders(layerDigest));
        Assert.Equal(upstreamRequests, cluster.Upstream.Requests.Count);
    }

    [Theory]
    [InlineData("""{"scope":"all_peers"}""", "'image' is required")]
    [InlineData("""{"image":"evil.example.com/a/b:1"}""", "not a configured upstream")]
    [InlineData("""{"image":"a/b:1","scope":"galaxy"}""", "scope")]
    [InlineData("""{"image":"a/b:1","platforms":["linux"]}""", "platform")]
    [InlineData("""{"image":"a/b@sha256:xyz"}""", "sha256")]
    [InlineData("""{"image":"A/B:1"}""", "A/B")]
    [InlineData("""{"image":"http://10.0.0.1/v2/a/b/manifests/1"}""", "not on a configured upstream")]
    [InlineData("""not json""", "not valid JSON")]
    public async Task Create_BadInput_400AndNoJob(string json, string message)
    {
        await using var cluster = await PreheatCluster.StartAsync();

        var (status, body) = await CreateAsync(cluster, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await cluster.ListJobsAsync());
    }

    [Fact]
    public async Task Jobs_SurviveARestart()
    {
        await using var cluster = await PreheatCluster.StartAsync();
        var repo = TestData.Repo("restart");
        cluster.AddImage(repo, "v1");
        var (_, created) = await CreateAsync(cluster, $$"""{"image":"{{cluster.Upstream.BaseAddress.Authority}}/{{repo}}:v1"}""");
        var id = created.GetProperty("id").GetInt64();
        var before = await cluster.WaitForJobAsync(id);

        await cluster.RestartProxyAsync();

        var after = await cluster.WaitForJobAsync(id);
        Assert.Equal("succeeded", after.GetProperty("state").GetString());
        Assert.Equal(before.GetProperty("blobs").GetArrayLength(), after.GetProperty("blobs").GetArrayLength());
        var (_, next) = await CreateAsync(cluster, $$"""{"image":"{{cluster.Upstream.BaseAddress.Authority}}/{{repo}}:v1","scope":"all_seed_peers"}""");
        Assert.True(next.GetProperty("id").GetInt64() > id);
    }

    [Fact]
    public async Task Jobs_ListedWithoutToken_401()
    {
        await using var cluster = await PreheatCluster.StartAsync();

        using var response = await cluster.Http.GetAsync("/v1/preheat/jobs");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Jobs_OpenWhenNoTokensConfigured()
    {
        await using var cluster = await PreheatCluster.StartAsync(withTokens: false);

        using var response = await cluster.Http.PostAsJsonAsync("/v1/preheat/jobs", new { image = "a/b:1" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public void JobStore_RunningJobOnDisk_IsPendingAgainAfterAReload()
    {
        using var dir = new TempDirectory("shoal-jobstore");
        var options = new ProxyOptions { DataDir = dir.Path };
        var store = new JobStore(options, TimeProvider.System, NullLogger<JobStore>.Instance);
        var (job, created) = store.GetOrCreate(new PreheatRequest { Repository = "a/b", Reference = "v1" });
        store.Update(job.Id, j => j.State = JobState.Running);
        var (same, createdAgain) = store.GetOrCreate(new PreheatRequest { Repository = "a/b", Reference = "v1" });

        var reloaded = new JobStore(options, TimeProvider.System, NullLogger<JobStore>.Instance);

        Assert.True(created);
        Assert.False(createdAgain);
        Assert.Equal(job.Id, same.Id);
        Assert.Equal([job.Id], reloaded.Unfinished());
        Assert.Equal(JobState.Pending, reloaded.Get(job.Id)!.State);
        var (next, _) = reloaded.GetOrCreate(new PreheatRequest { Repository = "a/b", Reference = "v2" });
        Assert.Equal(job.Id + 1, next.Id);
    }

    [Fact]
    public void JobStore_FinishedTagJob_IsNotReusedButPinnedDigestJobIs()
    {
        using var dir = new TempDirectory("shoal-jobstore");
        var store = new JobStore(new ProxyOptions { DataDir = dir.Path }, TimeProvider.System, NullLogger<JobStore>.Instance);
        const string digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        var (tagJob, _) = store.GetOrCreate(new PreheatRequest { Repository = "a/b", Reference = "v1" });
        var (digestJob, _) = store.GetOrCreate(new PreheatRequest { Repository = "a/b", Reference = digest, Digest = digest });
        store.Update(tagJob.Id, j => j.State = JobState.Succeeded);
        store.Update(digestJob.Id, j => j.State = JobState.Succeeded);

        var (tagAgain, tagCreated) = store.GetOrCreate(new PreheatRequest { Repository = "a/b", Reference = "v1" });
        var (digestAgain, digestCreated) = store.GetOrCreate(new PreheatRequest { Repository = "c/d", Reference = digest, Digest = digest });
        var (otherScope, otherCreated) = store.GetOrCreate(new PreheatRequest { Repository = "a/b", Reference = digest, Digest = digest, Scope = "all_seed_peers" });

        Assert.True(tagCreated);
        Assert.NotEqual(tagJob.Id, tagAgain.Id);
        Assert.False(digestCreated);
        Assert.Equal(digestJob.Id, digestAgain.Id);
        Assert.True(otherCreated);
        Assert.NotEqual(digestJob.Id, otherScope.Id);
    }
}
