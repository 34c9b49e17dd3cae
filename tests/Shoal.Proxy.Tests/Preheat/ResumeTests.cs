using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Shoal.Proxy.Preheat;
using Shoal.TestKit;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>
/// A job persisted and resumed after a proxy restart keeps the headers its request passed (Harbor's
/// pull token): on disk beside the job, owner-only, never listed, and gone once the job finishes.
/// </summary>
public sealed class ResumeTests
{
    /// <summary>A JWT as Harbor's token service issues it (the payload matters: <c>exp</c>).</summary>
    private static string Jwt(DateTimeOffset expires)
    {
        static string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return "Bearer " + Part("""{"alg":"RS256","typ":"JWT","kid":"harbor"}""") + "."
            + Part($$"""{"iss":"harbor-token-issuer","sub":"admin","exp":{{expires.ToUnixTimeSeconds()}},"access":[{"type":"repository","name":"p/r","actions":["pull"]}]}""")
            + ".c2lnbmF0dXJl";
    }

    private static string HarborBody(string url, string authorization)
        => $$"""{"type":"preheat","args":{"type":"image","url":"{{url}}","tag":"","filtered_query_params":"","headers":{"Authorization":"{{authorization}}"},"scope":"single_seed_peer","concurrent_count":0,"timeout":0},"scheduler_cluster_ids":[1]}""";

    private static async Task<long> CreateAsync(PreheatCluster cluster, string body)
    {
        using var response = await cluster.Http.SendAsync(PreheatCluster.Authorized(HttpMethod.Post, "/oapi/v1/jobs", body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
    }

    private static async Task<string> GetTextAsync(PreheatCluster cluster, string path)
    {
        using var response = await cluster.Http.SendAsync(PreheatCluster.Authorized(HttpMethod.Get, path));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Restart_MidJob_ResumedJobFetchesWithTheHeadersItWasGiven()
    {
        await using var cluster = await PreheatCluster.StartAsync();
        var repo = TestData.Repo("resume");
        var image = cluster.AddImage(repo, "1.0");
        var token = Jwt(DateTimeOffset.UtcNow.AddMinutes(30));
        cluster.Upstream.RequiredAuthorization = token;
        cluster.Upstream.Delay = TimeSpan.FromMinutes(2); // holds the job on its first manifest request
        var id = await CreateAsync(cluster, HarborBody(cluster.Upstream.ManifestUrl(repo, "1.0"), token));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!cluster.Upstream.Requests.Any(r => r.Request.Contains(repo, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the job never asked the upstream for the manifest");
            await Task.Delay(20);
        }

        // Mid-job: the headers are on disk beside the job, owner-only, and shown nowhere.
        var headersFile = Path.Combine(cluster.JobsDir, $"{id}.headers");
        var jobFile = Path.Combine(cluster.JobsDir, $"{id}.json");
        Assert.True(File.Exists(headersFile));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(headersFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(jobFile));
        }
        var secret = token["Bearer ".Length..].Split('.')[1];
        Assert.DoesNotContain(secret, await File.ReadAllTextAsync(jobFile), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, await GetTextAsync(cluster, $"/v1/preheat/jobs/{id}"), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, await GetTextAsync(cluster, $"/oapi/v1/jobs/{id}"), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, await GetTextAsync(cluster, "/v1/preheat/jobs"), StringComparison.Ordinal);

        cluster.Upstream.Delay = TimeSpan.Zero;
        await cluster.RestartProxyAsync();
        var job = await cluster.WaitForJobAsync(id);

        Assert.True(job.GetProperty("state").GetString() == "succeeded", job.ToString());
        Assert.All(image.Blobs, b => Assert.Equal(1, cluster.Holders(b)));
        var manifestRequests = cluster.Upstream.Requests.Where(r => r.Request.Contains(repo, StringComparison.Ordinal)).ToArray();
        Assert.True(manifestRequests.Length >= 2, "the resumed job did not fetch again");
        Assert.All(manifestRequests, r => Assert.Equal(token, r.Authorization));
        Assert.False(File.Exists(headersFile), "the headers outlived the job");
    }

    [Fact]
    public async Task Restart_FinishedJob_HeadersNotKept()
    {
        await using var cluster = await PreheatCluster.StartAsync();
        var repo = TestData.Repo("done");
        cluster.AddImage(repo, "1.0");
        var token = Jwt(DateTimeOffset.UtcNow.AddMinutes(30));
        var id = await CreateAsync(cluster, HarborBody(cluster.Upstream.ManifestUrl(repo, "1.0"), token));
        await cluster.WaitForJobAsync(id);

        await cluster.RestartProxyAsync();

        Assert.Empty(Directory.EnumerateFiles(cluster.JobsDir, "*.headers"));
        Assert.Equal("succeeded", (await cluster.WaitForJobAsync(id)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Create_PullTokenAlreadyExpired_FailsClearlyWithoutAsking()
    {
        await using var cluster = await PreheatCluster.StartAsync();
        var repo = TestData.Repo("stale");
        cluster.AddImage(repo, "1.0");
        var token = Jwt(DateTimeOffset.UtcNow.AddMinutes(-5));

        var id = await CreateAsync(cluster, HarborBody(cluster.Upstream.ManifestUrl(repo, "1.0"), token));
        var job = await cluster.WaitForJobAsync(id);

        Assert.Equal("failed", job.GetProperty("state").GetString());
        var error = job.GetProperty("error").GetString()!;
        Assert.Contains("pull token passed with the request expired at", error, StringComparison.Ordinal);
        Assert.Contains("run the preheat policy again", error, StringComparison.Ordinal);
        Assert.DoesNotContain(cluster.Upstream.Requests, r => r.Request.Contains(repo, StringComparison.Ordinal));
    }

    private static PreheatRequest WithHeaders(string reference) => new()
    {
        Repository = "a/b",
        Reference = reference,
        Headers = new(StringComparer.OrdinalIgnoreCase) { ["Authorization"] = "Bearer secret-pull-token" },
    };

    [Fact]
    public void JobStore_Reload_UnfinishedJobKeepsItsHeadersFinishedJobDropsThem()
    {
        using var dir = new TempDirectory("shoal-jobstore");
        var options = new ProxyOptions { DataDir = dir.Path };
        var store = new JobStore(options, TimeProvider.System, NullLogger<JobStore>.Instance);
        var (running, _) = store.GetOrCreate(WithHeaders("v1"));
        var (finished, _) = store.GetOrCreate(WithHeaders("v2"));
        store.Update(running.Id, j => j.State = JobState.Running);
        store.Update(finished.Id, j => j.State = JobState.Failed);

        var reloaded = new JobStore(options, TimeProvider.System, NullLogger<JobStore>.Instance);

        Assert.Equal("Bearer secret-pull-token", reloaded.Headers(running.Id)["authorization"]);
        Assert.Empty(reloaded.Headers(finished.Id));
        var files = Directory.GetFiles(Path.Combine(dir.Path, "preheat", "jobs")).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal([$"{running.Id}.headers", $"{running.Id}.json", $"{finished.Id}.json"], files);
        Assert.All(Directory.GetFiles(Path.Combine(dir.Path, "preheat", "jobs"), "*.json"),
            f => Assert.DoesNotContain("secret-pull-token", File.ReadAllText(f), StringComparison.Ordinal));
        Assert.True(reloaded.Delete(running.Id));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.Path, "preheat", "jobs"), "*.headers"));
    }

    [Fact]
    public void JobStore_UnreadableHeaders_JobStillResumes()
    {
        using var dir = new TempDirectory("shoal-jobstore");
        var options = new ProxyOptions { DataDir = dir.Path };
        var (job, _) = new JobStore(options, TimeProvider.System, NullLogger<JobStore>.Instance).GetOrCreate(WithHeaders("v1"));
        File.WriteAllText(Path.Combine(dir.Path, "preheat", "jobs", $"{job.Id}.headers"), "{not json");

        var reloaded = new JobStore(options, TimeProvider.System, NullLogger<JobStore>.Instance);

        Assert.Equal([job.Id], reloaded.Unfinished());
        Assert.Empty(reloaded.Headers(job.Id));
    }
}
