using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>
/// Replays of Harbor 2.11's (and older) "dragonfly" provider, which speaks Dragonfly's older API:
/// <c>GET /_ping</c>, <c>POST /preheats</c>, <c>GET /preheats/{id}</c>. Requests are built as Harbor's
/// driver builds them (Go's json.Marshal of its PreheatImage: type, url, headers, image, tag, digest;
/// <c>Content-Type</c> and <c>Accept: application/json</c>); answers are read as Harbor reads them.
/// </summary>
public sealed class LegacyDragonflyTests(PreheatFixture fixture) : IClassFixture<PreheatFixture>
{
    private const string HarborJwt = "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.harbor-2-11-pull-token";

    private PreheatCluster Cluster => fixture.Cluster;

    /// <summary>The body exactly as Harbor 2.11's driver marshals its PreheatImage.</summary>
    private static string HarborBody(string url, string repository, string tag, string digest, string type = "image")
        => $$"""{"type":"{{type}}","url":"{{url}}","headers":{"Authorization":"{{HarborJwt}}"},"image":"{{repository}}","tag":"{{tag}}","digest":"{{digest}}"}""";

    /// <summary>Harbor's POST: Content-Type and Accept application/json, the instance's credential (OAuth mode: a bearer).</summary>
    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/preheats") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", PreheatCluster.Token);
        using var response = await Cluster.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Go's encoding/json matches keys case-insensitively; Harbor's struct names the key "ID".</summary>
    private static JsonElement? Field(JsonElement element, string name)
        => element.EnumerateObject().Where(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).Select(p => (JsonElement?)p.Value).FirstOrDefault();

    /// <summary>What Harbor 2.11's Preheat does with the answer: any 2xx but 208 is "pending", and ID must be a JSON string.</summary>
    private static string HarborTaskId(HttpStatusCode status, string body)
    {
        Assert.True((int)status / 100 == 2, $"Harbor fails the task on {(int)status}: {body}");
        Assert.NotEqual(HttpStatusCode.AlreadyReported, status);
        using var document = JsonDocument.Parse(body);
        var id = Field(document.RootElement, "ID");
        Assert.True(id is { ValueKind: JsonValueKind.String }, "ID must be a string: " + body);
        return id.Value.GetString()!;
    }

    /// <summary>Harbor's CheckProgress: GET with Accept: application/json; WAITING → PENDING, FAILED → FAIL, other values as they are.</summary>
    private async Task<(string Status, JsonElement Info)> CheckProgressAsync(string taskId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/preheats/{taskId}");
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", PreheatCluster.Token);
        using var response = await Cluster.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var info = JsonDocument.Parse(body).RootElement.Clone();
        var status = Field(info, "Status")!.Value.GetString();
        return (status switch { "WAITING" => "PENDING", "FAILED" => "FAIL", _ => status! }, info);
    }

    /// <summary>Harbor's job loop: polls until SUCCESS or FAIL (here every 50 ms instead of 10 s).</summary>
    private async Task<(string Status, JsonElement Info)> RunLikeHarborAsync(string taskId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var (status, info) = await CheckProgressAsync(taskId);
            Assert.Contains(status, new[] { "PENDING", "RUNNING", "SUCCESS", "FAIL" });
            if (status is "SUCCESS" or "FAIL")
            {
                return (status, info);
            }
            Assert.True(DateTime.UtcNow < deadline, $"task {taskId} still {status} after 30 s");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Ping_AsHarborChecksHealth_200()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_ping");
        request.Headers.Accept.ParseAdd("application/json");

        using var response = await Cluster.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Preheat_HarborRequest_SucceedsWithHarborsTokenAndTimesHarborParses()
    {
        var repo = TestData.Repo("legacy");
        var image = Cluster.AddImage(repo, "1.25", MediaTypes.DockerManifest);

        var (status, body) = await PostAsync(HarborBody(Cluster.Upstream.ManifestUrl(repo, "1.25"), repo, "1.25", image.Image.Digest.ToString()));
        var taskId = HarborTaskId(status, body);
        var (final, info) = await RunLikeHarborAsync(taskId);

        Assert.Equal("SUCCESS", final);
        Assert.Equal(taskId, Field(info, "ID")!.Value.GetString());
        foreach (var name in new[] { "startTime", "finishTime" })
        {
            // Harbor computes the duration with time.Parse(time.RFC3339, …).
            var text = Field(info, name)!.Value.GetString()!;
            Assert.EndsWith("Z", text, StringComparison.Ordinal);
            Assert.True(DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _), text);
        }
        Assert.Equal(string.Empty, Field(info, "errorMsg")!.Value.GetString());
        Assert.All(image.Blobs, b => Assert.Equal(1, Cluster.Holders(b)));
        Assert.All(Cluster.Upstream.Requests.Where(r => r.Request.Contains(repo, StringComparison.Ordinal)), r => Assert.Equal(HarborJwt, r.Authorization));
    }

    [Fact]
    public async Task Preheat_SameArtifactAgain_SameTaskNever208()
    {
        var repo = TestData.Repo("again");
        var image = Cluster.AddImage(repo, "1.0");
        var body = HarborBody(Cluster.Upstream.ManifestUrl(repo, "1.0"), repo, "1.0", image.Image.Digest.ToString());
        var (firstStatus, firstBody) = await PostAsync(body);
        var first = HarborTaskId(firstStatus, firstBody);
        await RunLikeHarborAsync(first);

        var (status, again) = await PostAsync(body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(first, HarborTaskId(status, again));
    }

    [Fact]
    public async Task Preheat_TagMovedAwayFromHarborsDigest_Fail()
    {
        var repo = TestData.Repo("moved");
        var old = Cluster.AddImage(repo, null);
        Cluster.AddImage(repo, "1.0");

        var (status, body) = await PostAsync(HarborBody(Cluster.Upstream.ManifestUrl(repo, "1.0"), repo, "1.0", old.Image.Digest.ToString()));
        var (final, info) = await RunLikeHarborAsync(HarborTaskId(status, body));

        Assert.Equal("FAIL", final);
        Assert.Contains(old.Image.Digest.ToString(), Field(info, "errorMsg")!.Value.GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("preheat task already exists", Field(info, "errorMsg")!.Value.GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("file", "UPSTREAM/v2/a/b/manifests/1.0", "", "only 'image'")]
    [InlineData("image", "http://169.254.169.254/v2/a/b/manifests/1.0", "", "not on a configured upstream")]
    [InlineData("image", "", "", "not an absolute http")]
    [InlineData("image", "UPSTREAM/v2/a/b/manifests/1.0", "sha256:xyz", "digest 'sha256:xyz'")]
    [InlineData("image", "UPSTREAM/v2/a/b/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000", "sha256:1111111111111111111111111111111111111111111111111111111111111111", "not the digest the url names")]
    public async Task Preheat_InvalidRequest_422AndNoTask(string type, string url, string digest, string message)
    {
        var before = (await Cluster.ListJobsAsync()).Length;

        var (status, body) = await PostAsync(HarborBody(url.Replace("UPSTREAM/", Cluster.Upstream.BaseAddress.AbsoluteUri, StringComparison.Ordinal), "a/b", "1.0", digest, type));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains(message, JsonDocument.Parse(body).RootElement.GetProperty("errors").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await Cluster.ListJobsAsync()).Length);
    }

    [Fact]
    public async Task Preheat_WithoutToken_401AndUnknownTask_404()
    {
        using var post = await Cluster.Http.PostAsync("/preheats", new StringContent(HarborBody(Cluster.Upstream.ManifestUrl("a/b", "1"), "a/b", "1", ""), Encoding.UTF8, "application/json"));
        using var get = await Cluster.Http.SendAsync(PreheatCluster.Authorized(HttpMethod.Get, "/preheats/987654"));

        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }
}
