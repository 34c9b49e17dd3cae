using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shoal.Hosting;
using Shoal.TestKit;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>A preheat cluster whose tokens carry scopes: one with every scope, one per scope.</summary>
public sealed class ScopedTokenFixture : IAsyncLifetime
{
    public const string JobToken = "job-token-0123456789";
    public const string NotificationToken = "notification-token-0123";
    public const string ClusterToken = "cluster-token-0123456";

    private PreheatCluster? _cluster;

    internal PreheatCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _cluster = await PreheatCluster.StartAsync(configure: options =>
    {
        options.Preheat.Tokens.Add(new PreheatToken { Token = JobToken, Scopes = ["job"] });
        options.Preheat.Tokens.Add(new PreheatToken { Token = NotificationToken, Scopes = ["notification"] });
        options.Preheat.Tokens.Add(new PreheatToken { Token = ClusterToken, Scopes = ["cluster"] });
    });

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>Token scopes: 401 without a known token, 403 (Dragonfly's body) when the token lacks the scope.</summary>
public sealed class TokenScopeTests(ScopedTokenFixture fixture) : IClassFixture<ScopedTokenFixture>
{
    private const string DragonflyForbidden = "Token doesn't have permission to access this resource. Required permission: job";

    private PreheatCluster Cluster => fixture.Cluster;

    private string HarborBody(string repo)
        => $$"""{"type":"preheat","args":{"type":"image","url":"{{Cluster.Upstream.ManifestUrl(repo, "1.0")}}","tag":"","filtered_query_params":"","headers":{},"scope":"single_seed_peer","concurrent_count":0,"timeout":0},"scheduler_cluster_ids":[1]}""";

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string token, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await Cluster.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("POST", "/oapi/v1/jobs", ScopedTokenFixture.ClusterToken)]
    [InlineData("GET", "/oapi/v1/jobs", ScopedTokenFixture.ClusterToken)]
    [InlineData("GET", "/oapi/v1/jobs/1", ScopedTokenFixture.ClusterToken)]
    [InlineData("DELETE", "/oapi/v1/jobs/1", ScopedTokenFixture.ClusterToken)]
    [InlineData("POST", "/oapi/v1/jobs", ScopedTokenFixture.NotificationToken)]
    [InlineData("DELETE", "/oapi/v1/jobs/1", ScopedTokenFixture.NotificationToken)]
    [InlineData("POST", "/preheats", ScopedTokenFixture.ClusterToken)]
    [InlineData("GET", "/preheats/1", ScopedTokenFixture.NotificationToken)]
    public async Task DragonflyJobs_TokenWithoutJobScope_403WithDragonflysBodyAndNothingDone(string method, string path, string token)
    {
        var repo = TestData.Repo("scope");
        Cluster.AddImage(repo, "1.0");
        var before = await Cluster.ListJobsAsync();
        var json = method == "POST" ? (path == "/preheats"
            ? $$"""{"type":"image","url":"{{Cluster.Upstream.ManifestUrl(repo, "1.0")}}","headers":{},"image":"{{repo}}","tag":"1.0","digest":""}"""
            : HarborBody(repo)) : null;

        var (status, body) = await SendAsync(new HttpMethod(method), path, token, json);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        using var document = JsonDocument.Parse(body);
        Assert.Equal(DragonflyForbidden, document.RootElement.GetProperty("message").GetString());
        Assert.Equal(before.Length, (await Cluster.ListJobsAsync()).Length);
        Assert.DoesNotContain(Cluster.Upstream.Requests, r => r.Request.Contains(repo, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DragonflyJobs_JobScopedToken_CreateGetListDelete()
    {
        var repo = TestData.Repo("scoped");
        Cluster.AddImage(repo, "1.0");

        var (created, createdBody) = await SendAsync(HttpMethod.Post, "/oapi/v1/jobs", ScopedTokenFixture.JobToken, HarborBody(repo));
        var id = JsonDocument.Parse(createdBody).RootElement.GetProperty("id").GetInt64();
        var (got, _) = await SendAsync(HttpMethod.Get, $"/oapi/v1/jobs/{id}", ScopedTokenFixture.JobToken);
        var (listed, _) = await SendAsync(HttpMethod.Get, "/oapi/v1/jobs", ScopedTokenFixture.JobToken);
        await Cluster.WaitForJobAsync(id);
        var (deleted, _) = await SendAsync(HttpMethod.Delete, $"/oapi/v1/jobs/{id}", ScopedTokenFixture.JobToken);

        Assert.Equal(HttpStatusCode.OK, created);
        Assert.Equal(HttpStatusCode.OK, got);
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal(HttpStatusCode.OK, deleted);
    }

    [Fact]
    public async Task DragonflyJobs_AccessTokenQueryParameter_Accepted()
    {
        using var allowed = await Cluster.Http.GetAsync($"/oapi/v1/jobs?access_token={ScopedTokenFixture.JobToken}");
        using var forbidden = await Cluster.Http.GetAsync($"/oapi/v1/jobs?access_token={ScopedTokenFixture.ClusterToken}");
        using var unknown = await Cluster.Http.GetAsync("/oapi/v1/jobs?access_token=unknown-token-123");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
    }

    [Fact]
    public async Task Notifications_NeedTheNotificationScope()
    {
        const string Empty = """{"events":[]}""";

        var (withJob, problem) = await SendAsync(HttpMethod.Post, "/registry/notifications", ScopedTokenFixture.JobToken, Empty);
        var (withNotification, _) = await SendAsync(HttpMethod.Post, "/registry/notifications", ScopedTokenFixture.NotificationToken, Empty);
        var (withEveryScope, _) = await SendAsync(HttpMethod.Post, "/registry/notifications", PreheatCluster.Token, Empty);

        Assert.Equal(HttpStatusCode.Forbidden, withJob);
        Assert.Contains("'notification' scope", problem, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, withNotification);
        Assert.Equal(HttpStatusCode.OK, withEveryScope);
    }

    [Fact]
    public async Task ShoalJobs_NeedTheJobScope()
    {
        var (withNotification, _) = await SendAsync(HttpMethod.Get, "/v1/preheat/jobs", ScopedTokenFixture.NotificationToken);
        var (withJob, _) = await SendAsync(HttpMethod.Get, "/v1/preheat/jobs", ScopedTokenFixture.JobToken);
        var (withNone, _) = await SendAsync(HttpMethod.Get, "/v1/preheat/jobs", "not-a-known-token");

        Assert.Equal(HttpStatusCode.Forbidden, withNotification);
        Assert.Equal(HttpStatusCode.OK, withJob);
        Assert.Equal(HttpStatusCode.Unauthorized, withNone);
    }
}

/// <summary>How <c>proxy:preheat:tokens</c> binds from YAML: plain strings (every scope) and <c>{token, scopes}</c>.</summary>
public sealed class TokenConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new("shoal-tokens");

    private ProxyOptions Load(string tokensYaml)
    {
        var file = Path.Combine(_dir.Path, "shoal.yaml");
        File.WriteAllText(file, $"""
            proxy:
              dataDir: {_dir.Path}
              origins: [ "http://127.0.0.1:15002" ]
              buildIndex: http://127.0.0.1:15004
              preheat:
                tokens:
            {tokensYaml}
            """);
        return ShoalConfiguration.Bind<ProxyOptions>(ShoalConfiguration.Load(file, []), ProxyOptions.ConfigSection);
    }

    [Fact]
    public void Tokens_PlainStringsAndScopedObjects_Bind()
    {
        var options = Load("""
                - plain-token-0123
                - token: scoped-token-0123
                  scopes: [ job, cluster ]
            """);

        Assert.Equal(2, options.Preheat.Tokens.Count);
        Assert.Equal("plain-token-0123", options.Preheat.Tokens[0].Token);
        Assert.Empty(options.Preheat.Tokens[0].Scopes);
        Assert.True(options.Preheat.Tokens[0].Grants("job"));
        Assert.True(options.Preheat.Tokens[0].Grants("notification"));
        Assert.Equal("scoped-token-0123", options.Preheat.Tokens[1].Token);
        Assert.Equal(["job", "cluster"], options.Preheat.Tokens[1].Scopes);
        Assert.True(options.Preheat.Tokens[1].Grants("job"));
        Assert.False(options.Preheat.Tokens[1].Grants("notification"));
    }

    [Theory]
    [InlineData("    - token: scoped-token-0123\n      scopes: [ preheat ]", "proxy:preheat:tokens:0:scopes")]
    [InlineData("    - short", "proxy:preheat:tokens:0:token")]
    [InlineData("    - same-token-0123\n    - token: same-token-0123", "listed twice")]
    public void Tokens_Invalid_ErrorNamesTheKey(string yaml, string expected)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Load(yaml));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Token_ToString_NeverShowsTheSecret()
        => Assert.DoesNotContain("secret", new PreheatToken { Token = "secret-token-1", Scopes = ["job"] }.ToString(), StringComparison.Ordinal);

    public void Dispose() => _dir.Dispose();
}
