using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shoal.Core.Registry;
using Shoal.Hosting;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>Replays of Harbor's "dragonfly" preheat provider (Harbor 2.12+) against the proxy.</summary>
public sealed class DragonflyTests(PreheatFixture fixture) : IClassFixture<PreheatFixture>
{
    private const string HarborJwt = "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.harbor-pull-token";

    private PreheatCluster Cluster => fixture.Cluster;

    /// <summary>The body exactly as Harbor's driver marshals it (every key, no omitempty).</summary>
    private static string HarborBody(string url, string scope = "single_seed_peer", long timeout = 0, string headersJson = $$"""{"Authorization":"{{HarborJwt}}"}""")
        => $$"""{"type":"preheat","args":{"type":"image","url":"{{url}}","tag":"","filtered_query_params":"","headers":{{headersJson}},"scope":"{{scope}}","concurrent_count":0,"timeout":{{timeout}}},"scheduler_cluster_ids":[1]}""";

    /// <summary>POST as Harbor sends it: Content-Type application/json and the personal access token.</summary>
    private async Task<(HttpStatusCode Status, JsonElement Body)> CreateAsync(string body, string? token = PreheatCluster.Token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oapi/v1/jobs") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
        using var response = await Cluster.Http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>GET as Harbor sends it (Accept: application/json), polling until the state is final.</summary>
    private async Task<JsonElement> PollAsync(long id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/oapi/v1/jobs/{id}");
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + PreheatCluster.Token);
            using var response = await Cluster.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var job = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            if (job.GetProperty("state").GetString() != "PENDING")
            {
                return job;
            }
            Assert.True(DateTime.UtcNow < deadline, $"job {id} still PENDING after 30 s");
            await Task.Delay(50);
        }
    }

    private static void AssertHarborShape(JsonElement job)
    {
        Assert.Equal(JsonValueKind.Number, job.GetProperty("id").ValueKind);
        Assert.True(job.GetProperty("id").GetInt64() > 0);
        foreach (var name in new[] { "created_at", "updated_at" })
        {
            var text = job.GetProperty(name).GetString()!;
            Assert.EndsWith("Z", text, StringComparison.Ordinal); // RFC 3339, as Go's time.Time parses it
            Assert.True(DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
        }
        Assert.Contains(job.GetProperty("state").GetString(), new[] { "PENDING", "SUCCESS", "FAILURE" });
        var state = Assert.Single(job.GetProperty("result").GetProperty("job_states").EnumerateArray().ToArray());
        Assert.Equal(JsonValueKind.String, state.GetProperty("error").ValueKind);
        var result = Assert.Single(state.GetProperty("results").EnumerateArray().ToArray());
        Assert.Equal(JsonValueKind.Array, result.GetProperty("success_tasks").ValueKind);
        Assert.Equal(JsonValueKind.Array, result.GetProperty("failure_tasks").ValueKind);
        Assert.Equal(1, result.GetProperty("scheduler_cluster_id").GetInt64());
    }

    [Fact]
    public async Task Healthy_Answers200()
    {
        using var healthy = await Cluster.Http.GetAsync("/healthy");
        using var health = await Cluster.Http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task CreateJob_HarborRequest_SucceedsWithATaskPerBlobAndUsesHarborsToken()
    {
        var repo = TestData.Repo("df");
        var image = Cluster.AddImage(repo, "1.0", MediaTypes.DockerManifest);

        var (status, created) = await CreateAsync(HarborBody(Cluster.Upstream.ManifestUrl(repo, "1.0")));

        Assert.Equal(HttpStatusCode.OK, status);
        AssertHarborShape(created);
        var job = await PollAsync(created.GetProperty("id").GetInt64());
        AssertHarborShape(job);
        Assert.Equal("SUCCESS", job.GetProperty("state").GetString());
        var tasks = job.GetProperty("result").GetProperty("job_states")[0].GetProperty("results")[0];
        Assert.Equal(image.Blobs.Length, tasks.GetProperty("success_tasks").GetArrayLength());
        Assert.Equal(0, tasks.GetProperty("failure_tasks").GetArrayLength());
        var task = tasks.GetProperty("success_tasks")[0];
        Assert.Contains("/blobs/sha256:", task.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Equal("127.0.0.1", task.GetProperty("hostname").GetString());
        Assert.Equal("127.0.0.1", task.GetProperty("ip").GetString());
        Assert.All(image.Blobs, b => Assert.Equal(1, Cluster.Holders(b)));
        Assert.All(Cluster.Upstream.Requests.Where(r => r.Request.Contains(repo, StringComparison.Ordinal)), r => Assert.Equal(HarborJwt, r.Authorization));
    }

    [Fact]
    public async Task CreateJob_AllSeedPeers_EveryOwnerHoldsEveryBlob()
    {
        var repo = TestData.Repo("dfall");
        var image = Cluster.AddImage(repo, "1.0");

        var (_, created) = await CreateAsync(HarborBody(Cluster.Upstream.ManifestUrl(repo, "1.0"), "all_seed_peers"));
        var job = await PollAsync(created.GetProperty("id").GetInt64());

        Assert.Equal("SUCCESS", job.GetProperty("state").GetString());
        Assert.Equal(image.Blobs.Length * 2, job.GetProperty("result").GetProperty("job_states")[0].GetProperty("results")[0].GetProperty("success_tasks").GetArrayLength());
        Assert.All(image.Blobs, b => Assert.Equal(2, Cluster.Holders(b)));
    }

    [Fact]
    public async Task CreateJob_AllPeers_AgentPreloadsEveryBlob()
    {
        var repo = TestData.Repo("dfpeers");
        var image = Cluster.AddImage(repo, "1.0");

        var (_, created) = await CreateAsync(HarborBody(Cluster.Upstream.ManifestUrl(repo, "1.0"), "all_peers"));
        var job = await PollAsync(created.GetProperty("id").GetInt64());

        Assert.Equal("SUCCESS", job.GetProperty("state").GetString());
        Assert.All(image.Blobs, b => Assert.Equal(2, Cluster.Holders(b)));
        Assert.All(image.Blobs, b => Assert.True(Cluster.AgentHolds(b), $"agent lacks {b}"));
        var agentUrl = Cluster.AgentApp!.BaseAddress().AbsoluteUri;
        Assert.Contains(job.GetProperty("result").GetProperty("job_states")[0].GetProperty("results")[0].GetProperty("success_tasks").EnumerateArray(),
            t => t.GetProperty("url").GetString() == agentUrl);
    }

    [Fact]
    public async Task CreateJob_ExpiredHarborToken_FailsWithClearMessage()
    {
        await using var cluster = await PreheatCluster.StartAsync();
        var repo = TestData.Repo("expired");
        var image = cluster.AddImage(repo, "1.0");
        cluster.Upstream.RequiredAuthorization = "Bearer fresh";
        using var request = PreheatCluster.Authorized(HttpMethod.Post, "/oapi/v1/jobs", HarborBody(cluster.Upstream.ManifestUrl(repo, "1.0")));
        using var response = await cluster.Http.SendAsync(request);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        var job = await cluster.WaitForJobAsync(id);

        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("expired", job.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.All(image.Blobs, b => Assert.Equal(0, cluster.Holders(b)));
    }

    [Fact]
    public async Task CreateJob_TimeoutFromRequest_FailsTheJob()
    {
        await using var cluster = await PreheatCluster.StartAsync();
        var repo = TestData.Repo("slow");
        cluster.AddImage(repo, "1.0");
        cluster.Upstream.Delay = TimeSpan.FromSeconds(30);
        using var request = PreheatCluster.Authorized(HttpMethod.Post, "/oapi/v1/jobs", HarborBody(cluster.Upstream.ManifestUrl(repo, "1.0"), timeout: 500_000_000));
        using var response = await cluster.Http.SendAsync(request);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        var job = await cluster.WaitForJobAsync(id);

        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("timed out", job.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"preheat","args":{"type":"image","url":"http://169.254.169.254/v2/a/b/manifests/latest","tag":"","filtered_query_params":"","headers":{},"scope":"","concurrent_count":0,"timeout":0},"scheduler_cluster_ids":null}""", "not on a configured upstream")]
    [InlineData("""{"type":"preheat","args":{"type":"image","url":"file:///etc/passwd","tag":"","filtered_query_params":"","headers":{},"scope":"","concurrent_count":0,"timeout":0},"scheduler_cluster_ids":null}""", "not an absolute http")]
    [InlineData("""{"type":"sync_peers","args":{},"scheduler_cluster_ids":null}""", "only 'preheat'")]
    [InlineData("""{"type":"preheat","args":{"type":"file","url":"UPSTREAM/v2/a/b/manifests/latest","tag":"","filtered_query_params":"","headers":{},"scope":"","concurrent_count":0,"timeout":0},"scheduler_cluster_ids":null}""", "only 'image'")]
    [InlineData("""{"type":"preheat","args":{"type":"image","url":"UPSTREAM/v2/a/b/manifests/latest","tag":"","filtered_query_params":"","headers":{},"scope":"everyone","concurrent_count":0,"timeout":0},"scheduler_cluster_ids":null}""", "args.scope")]
    [InlineData("""{"type":"preheat","args":{"type":"image","url":"UPSTREAM/v2/a/b/blobs/sha256:00","tag":"","filtered_query_params":"","headers":{},"scope":"","concurrent_count":0,"timeout":0},"scheduler_cluster_ids":null}""", "not a manifest URL")]
    [InlineData("""{"type":"preheat","args":{"type":"image","url":"UPSTREAM/v2/a/b/manifests/latest","tag":"","filtered_query_params":"","headers":{"Authorization":5},"scope":"","concurrent_count":0,"timeout":0},"scheduler_cluster_ids":null}""", "args.headers")]
    [InlineData("""{"type":"preheat","args":{"type":"image","url":"UPSTREAM/v2/a/b/manifests/latest","tag":"","filtered_query_params":"","headers":{},"scope":"","concurrent_count":0,"timeout":-1},"scheduler_cluster_ids":null}""", "args.timeout")]
    [InlineData("{", "not valid JSON")]
    public async Task CreateJob_InvalidRequest_422AndNoJobNoFetch(string body, string message)
    {
        var before = (await Cluster.ListJobsAsync()).Length;
        var requestsBefore = Cluster.Upstream.Requests.Count;

        var (status, answer) = await CreateAsync(body.Replace("UPSTREAM/", Cluster.Upstream.BaseAddress.AbsoluteUri, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains(message, answer.GetProperty("errors").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await Cluster.ListJobsAsync()).Length);
        Assert.Equal(requestsBefore, Cluster.Upstream.Requests.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-token")]
    public async Task CreateJob_MissingOrInvalidToken_401(string? token)
    {
        var before = (await Cluster.ListJobsAsync()).Length;

        var (status, answer) = await CreateAsync(HarborBody(Cluster.Upstream.ManifestUrl("a/b", "1.0")), token);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Unauthorized", answer.GetProperty("message").GetString()); // Dragonfly's body
        Assert.Single(answer.EnumerateObject());
        Assert.Equal(before, (await Cluster.ListJobsAsync()).Length);
    }

    [Fact]
    public async Task CreateJob_HarborBasicModeCarryingTheToken_Accepted()
    {
        var repo = TestData.Repo("basic");
        Cluster.AddImage(repo, "1.0");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oapi/v1/jobs")
        {
            Content = new StringContent(HarborBody(Cluster.Upstream.ManifestUrl(repo, "1.0")), Encoding.UTF8, "application/json"),
        };
        // Harbor's buggy basic mode: "password:<p>" base64-encoded.
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("password:" + PreheatCluster.Token)));

        using var response = await Cluster.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ListAndDelete_Jobs()
    {
        var repo = TestData.Repo("dflist");
        Cluster.AddImage(repo, "1.0");
        var (_, created) = await CreateAsync(HarborBody(Cluster.Upstream.ManifestUrl(repo, "1.0")));
        var id = created.GetProperty("id").GetInt64();
        await PollAsync(id);

        using var list = await Cluster.Http.SendAsync(PreheatCluster.Authorized(HttpMethod.Get, "/oapi/v1/jobs"));
        var jobs = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains(jobs.EnumerateArray(), j => j.GetProperty("id").GetInt64() == id);
        using var delete = await Cluster.Http.SendAsync(PreheatCluster.Authorized(HttpMethod.Delete, $"/oapi/v1/jobs/{id}"));
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        using var gone = await Cluster.Http.SendAsync(PreheatCluster.Authorized(HttpMethod.Get, $"/oapi/v1/jobs/{id}"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var again = await Cluster.Http.SendAsync(PreheatCluster.Authorized(HttpMethod.Delete, $"/oapi/v1/jobs/{id}"));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }
}
