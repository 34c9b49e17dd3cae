using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Shoal.BuildIndex;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Hosting;
using Shoal.Origin;
using Shoal.Proxy;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>
/// Tag replication between two clusters (origin, build-index and proxy each), pushed and pulled with
/// skopeo: what cluster A's build-index replicates arrives whole in cluster B, what no rule names
/// stays home, a moved tag follows, a remote that is down gets the tag once it is back, and a tag
/// deleted here is deleted there only under a rule that says so.
/// </summary>
[Trait("Category", "E2E")]
public sealed class ReplicationTests : IDisposable
{
    private readonly TempDirectory _temp = new("shoal-replication");

    public void Dispose() => _temp.Dispose();

    [E2EFact(ToolCheck.Skopeo)]
    public async Task PushToA_MatchingRepositories_ArriveWholeInB()
    {
        await using var b = await Cluster.StartAsync(_temp.Combine("b"));
        await using var a = await Cluster.StartAsync(_temp.Combine("a"), replicateTo: b);

        var singleDir = _temp.CreateSubdirectory("single");
        var single = new OciImageBuilder(singleDir).AddImage("v1", new OciImageSpec { LayerSizes = [200 * 1024, 64 * 1024] });
        await Skopeo.PushAsync(singleDir, "v1", a.Proxy.BaseAddress().Authority, "team/app:v1");
        var multiDir = _temp.CreateSubdirectory("multi");
        var multi = new OciImageBuilder(multiDir).AddIndex(
            "v1",
            new OciImageSpec { Platform = OciPlatform.LinuxAmd64, LayerSizes = [128 * 1024] },
            new OciImageSpec { Platform = OciPlatform.LinuxArm64, LayerSizes = [96 * 1024] });
        await Skopeo.PushAsync(multiDir, "v1", a.Proxy.BaseAddress().Authority, "team/multi:v1", "--all");
        await Skopeo.PushAsync(singleDir, "v1", a.Proxy.BaseAddress().Authority, "other/app:v1");

        await UntilTagAsync(b, "team/app", "v1", Digest.Parse(single.Manifest.Digest));
        await UntilTagAsync(b, "team/multi", "v1", Digest.Parse(multi.Index.Digest));
        var pulled = _temp.Combine("pulled-single");
        await Skopeo.PullAsync(b.Proxy.BaseAddress().Authority, "team/app:v1", $"oci:{pulled}:v1");
        Assert.Equal(single.Manifest.Digest, OciLayoutReader.Resolve(pulled, "v1").Digest);
        AssertSameBlobs(singleDir, single.BlobDigests, pulled);
        var pulledMulti = _temp.Combine("pulled-multi");
        await Skopeo.PullAsync(b.Proxy.BaseAddress().Authority, "team/multi:v1", $"oci:{pulledMulti}:v1", "--all");
        Assert.Equal(multi.Index.Digest, OciLayoutReader.Resolve(pulledMulti, "v1").Digest);
        AssertSameBlobs(multiDir, multi.BlobDigests, pulledMulti);
        Assert.Null(await b.Index.GetTagAsync("other/app", "v1", CancellationToken.None)); // no rule names it

        // The tag moves: B follows, and the replicated tag is not sent on (B has no rules; A's queue drains).
        var secondDir = _temp.CreateSubdirectory("second");
        var second = new OciImageBuilder(secondDir, seed: 2).AddImage("v1", new OciImageSpec { LayerSizes = [50 * 1024] });
        await Skopeo.PushAsync(secondDir, "v1", a.Proxy.BaseAddress().Authority, "team/app:v1");
        await UntilTagAsync(b, "team/app", "v1", Digest.Parse(second.Manifest.Digest));
        await Poll.UntilAsync(() => QueueDepthAsync(a).GetAwaiter().GetResult() == 0, timeoutSeconds: 30);
    }

    [E2EFact(ToolCheck.Skopeo)]
    public async Task RemoteDown_TagQueuedAndRetried_ArrivesOnceTheRemoteIsBack()
    {
        var bDir = _temp.Combine("b");
        var (indexPort, originPort) = (FreePort.Next(), FreePort.Next());
        await using var a = await Cluster.StartAsync(_temp.Combine("a"), replicateTo: null,
            remote: ($"http://127.0.0.1:{indexPort}/", $"http://127.0.0.1:{originPort}/"));
        var imageDir = _temp.CreateSubdirectory("image");
        var image = new OciImageBuilder(imageDir).AddImage("v1", new OciImageSpec { LayerSizes = [100 * 1024] });
        await Skopeo.PushAsync(imageDir, "v1", a.Proxy.BaseAddress().Authority, "team/app:v1");

        await Poll.UntilAsync(() => Listing(a).GetAwaiter().GetResult().RootElement.GetProperty("tasks") is { ValueKind: JsonValueKind.Array } tasks
            && tasks.GetArrayLength() == 1 && tasks[0].GetProperty("attempts").GetInt32() >= 1, timeoutSeconds: 30);
        using (var listing = await Listing(a))
        {
            var task = listing.RootElement.GetProperty("tasks")[0];
            Assert.Equal("team/app", task.GetProperty("repository").GetString());
            Assert.Equal(image.Manifest.Digest, task.GetProperty("digest").GetString());
            Assert.False(string.IsNullOrEmpty(task.GetProperty("lastError").GetString()));
        }

        await using var b = await Cluster.StartAsync(bDir, indexPort: indexPort, originPort: originPort);
        await UntilTagAsync(b, "team/app", "v1", Digest.Parse(image.Manifest.Digest), timeoutSeconds: 60);
        var pulled = _temp.Combine("pulled");
        await Skopeo.PullAsync(b.Proxy.BaseAddress().Authority, "team/app:v1", $"oci:{pulled}:v1");
        AssertSameBlobs(imageDir, image.BlobDigests, pulled);
    }

    [E2EFact(ToolCheck.Skopeo)]
    public async Task DeleteInA_RuleWithDeletes_DeletedInB_OtherRuleKeepsIt()
    {
        await using var b = await Cluster.StartAsync(_temp.Combine("b"));
        await using var a = await Cluster.StartAsync(_temp.Combine("a"), replicateTo: b, deletesFor: "team/.*", keepFor: "keep/.*");
        var imageDir = _temp.CreateSubdirectory("image");
        var image = new OciImageBuilder(imageDir).AddImage("v1", new OciImageSpec { LayerSizes = [64 * 1024] });
        var digest = Digest.Parse(image.Manifest.Digest);
        foreach (var reference in new[] { "team/app:v1", "team/app:v2", "keep/app:v1" })
        {
            await Skopeo.PushAsync(imageDir, "v1", a.Proxy.BaseAddress().Authority, reference);
        }
        await UntilTagAsync(b, "team/app", "v1", digest);
        await UntilTagAsync(b, "team/app", "v2", digest);
        await UntilTagAsync(b, "keep/app", "v1", digest);

        // Deleted through A's registry API (as `skopeo delete` or Harbor's UI would).
        using var http = new HttpClient { BaseAddress = a.Proxy.BaseAddress() };
        foreach (var path in new[] { "v2/team/app/manifests/v1", "v2/keep/app/manifests/v1" })
        {
            using var response = await http.DeleteAsync(path);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }

        await Poll.UntilAsync(() => b.Index.GetTagAsync("team/app", "v1", CancellationToken.None).GetAwaiter().GetResult() is null, timeoutSeconds: 30);
        await Poll.UntilAsync(() => QueueDepthAsync(a).GetAwaiter().GetResult() == 0, timeoutSeconds: 30);
        Assert.Equal(digest, await b.Index.GetTagAsync("team/app", "v2", CancellationToken.None)); // only the deleted tag
        Assert.Equal(digest, await b.Index.GetTagAsync("keep/app", "v1", CancellationToken.None)); // its rule does not delete
        Assert.NotNull(await b.Index.GetManifestAsync("team/app", digest, CancellationToken.None)); // the content stays
    }

    [Fact]
    public void Options_ReplicationWithoutLocalOrigins_NamesTheKey()
    {
        var options = new BuildIndexOptions
        {
            DataDir = _temp.Combine("bad"),
            Listen = { Port = 0 },
            Replication = [new ReplicationRuleOptions { Repositories = "team/(", Remote = new RemoteClusterOptions { BuildIndex = "not a url", Origins = ["http://o:1"] } }],
        };
        var ex = Assert.Throws<ConfigurationException>(() => BuildIndexServer.Build(options));
        Assert.Contains("buildIndex:origins", ex.Message, StringComparison.Ordinal);
        Assert.Contains("buildIndex:replication:0:repositories", ex.Message, StringComparison.Ordinal);
        Assert.Contains("buildIndex:replication:0:remote:buildIndex", ex.Message, StringComparison.Ordinal);
    }

    private static async Task UntilTagAsync(Cluster cluster, string repository, string tag, Digest digest, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (await cluster.Index.GetTagAsync(repository, tag, CancellationToken.None) != digest)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{repository}:{tag} did not reach {digest} within {timeoutSeconds} s");
            await Task.Delay(100);
        }
    }

    private static async Task<JsonDocument> Listing(Cluster cluster)
    {
        using var http = new HttpClient();
        return JsonDocument.Parse(await http.GetStringAsync(new Uri(cluster.BuildIndexApp.BaseAddress(), "v1/replication")));
    }

    private static async Task<long> QueueDepthAsync(Cluster cluster)
    {
        using var listing = await Listing(cluster);
        return listing.RootElement.GetProperty("depth").GetInt64();
    }

    private static void AssertSameBlobs(string sourceLayout, IReadOnlyList<string> expected, string pulledLayout)
    {
        var pulled = OciLayoutReader.VerifiedBlobs(pulledLayout);
        foreach (var digest in expected)
        {
            Assert.True(pulled.ContainsKey(digest), $"{digest} was not pulled");
            Assert.Equal(File.ReadAllBytes(Path.Combine(sourceLayout, "blobs", "sha256", digest["sha256:".Length..])), File.ReadAllBytes(pulled[digest]));
        }
    }

    /// <summary>One cluster: an origin, a build-index (replicating to another cluster, or not) and a proxy.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly HttpClient _http = new();

        private Cluster(WebApplication origin, WebApplication buildIndex, WebApplication proxy)
        {
            OriginApp = origin;
            BuildIndexApp = buildIndex;
            Proxy = proxy;
            Index = new BuildIndexClient(_http, buildIndex.BaseAddress());
        }

        public WebApplication OriginApp { get; }

        public WebApplication BuildIndexApp { get; }

        public WebApplication Proxy { get; }

        public BuildIndexClient Index { get; }

        /// <param name="deletesFor">With <paramref name="replicateTo"/>: the repositories replicated with deletes (default <c>team/.*</c> without).</param>
        /// <param name="keepFor">With <paramref name="deletesFor"/>: more repositories, replicated without deletes.</param>
        public static async Task<Cluster> StartAsync(string dir, Cluster? replicateTo = null, (string Index, string Origin)? remote = null, int indexPort = 0, int originPort = 0,
            string? deletesFor = null, string? keepFor = null)
        {
            var origin = OriginServer.Build(new OriginOptions { DataDir = Path.Combine(dir, "origin"), Listen = { Port = originPort } }, Quiet);
            await origin.StartAsync();
            var target = replicateTo is null ? remote : (replicateTo.BuildIndexApp.BaseAddress().AbsoluteUri, replicateTo.OriginApp.BaseAddress().AbsoluteUri);
            var indexOptions = new BuildIndexOptions { DataDir = Path.Combine(dir, "build-index"), Listen = { Port = indexPort } };
            if (target is { } t)
            {
                indexOptions.Origins = [origin.BaseAddress().AbsoluteUri];
                indexOptions.Replicas = 1;
                indexOptions.ReplicationRetryMax = TimeSpan.FromSeconds(1);
                RemoteClusterOptions Remote() => new() { BuildIndex = t.Index, Origins = [t.Origin], Replicas = 1 };
                indexOptions.Replication = [new ReplicationRuleOptions { Repositories = deletesFor ?? "team/.*", Deletes = deletesFor is not null, Remote = Remote() }];
                if (keepFor is not null)
                {
                    indexOptions.Replication.Add(new ReplicationRuleOptions { Repositories = keepFor, Remote = Remote() });
                }
            }
            var buildIndex = BuildIndexServer.Build(indexOptions, Quiet);
            await buildIndex.StartAsync();
            var proxy = ProxyServer.Build(new ProxyOptions
            {
                DataDir = Path.Combine(dir, "proxy"),
                Listen = { Port = 0 },
                Origins = [origin.BaseAddress().AbsoluteUri],
                Replicas = 1,
                BuildIndex = buildIndex.BaseAddress().AbsoluteUri,
            }, Quiet);
            await proxy.StartAsync();
            return new Cluster(origin, buildIndex, proxy);
        }

        public async ValueTask DisposeAsync()
        {
            await Proxy.DisposeAsync();
            await BuildIndexApp.DisposeAsync();
            await OriginApp.DisposeAsync();
            _http.Dispose();
        }

        private static void Quiet(WebApplicationBuilder builder) => builder.Logging.SetMinimumLevel(LogLevel.Warning);
    }
}
