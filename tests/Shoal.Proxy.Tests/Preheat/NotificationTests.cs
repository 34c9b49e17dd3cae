using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary><c>POST /registry/notifications</c>: distribution envelopes, Harbor's "kraken" provider and Harbor webhooks.</summary>
public sealed class NotificationTests(PreheatFixture fixture) : IClassFixture<PreheatFixture>
{
    private PreheatCluster Cluster => fixture.Cluster;

    private static string DataFile(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Preheat", "Data", name));

    private async Task<(HttpStatusCode Status, JsonElement Body)> NotifyAsync(string body, string contentType = "application/vnd.docker.distribution.events.v1+json", bool authorized = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/registry/notifications")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (authorized)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", PreheatCluster.Token);
        }
        using var response = await Cluster.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Envelope(string repository, string mediaType, Digest digest, string url, string? tag = "v1", string action = "push")
        => $$"""
        {
          "events": [
            {
              "id": "{{Guid.NewGuid()}}",
              "timestamp": "2026-11-25T06:51:16.336970277Z",
              "action": "{{action}}",
              "target": {
                "mediaType": "{{mediaType}}",
                "size": 345,
                "digest": "{{digest}}",
                "length": 345,
                "repository": "{{repository}}",
                "url": "{{url}}"{{(tag is null ? "" : $",\n        \"tag\": \"{tag}\"")}}
              },
              "request": { "id": "7f6d905a", "addr": "127.0.0.1:36146", "host": "127.0.0.1:5000", "method": "PUT", "useragent": "skopeo/1.9.3" },
              "actor": {},
              "source": { "addr": "vm:5000", "instanceID": "56b3870f-f503-4d15-ba48-6d43611a65a7" }
            }
          ]
        }
        """;

    private static long[] JobIds(JsonElement body) => body.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetInt64()).ToArray();

    [Fact]
    public async Task Notify_CapturedManifestPush_StartsJobAndBlobEventsAreIgnored()
    {
        await using var cluster = await PreheatCluster.StartAsync(configure: o => o.Preheat.Upstreams.Add(new PreheatUpstream { Url = "http://127.0.0.1:5000" }));
        async Task<JsonElement> Post(string file)
        {
            using var request = PreheatCluster.Authorized(HttpMethod.Post, "/registry/notifications");
            request.Content = new StringContent(DataFile(file), Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/vnd.docker.distribution.events.v1+json");
            using var response = await cluster.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }

        var layer = await Post("push-layer-blob.json");
        var config = await Post("push-config-blob.json");
        var manifest = await Post("push-manifest-oci-tagged.json");

        Assert.Empty(JobIds(layer));
        Assert.Equal("blob event", layer.GetProperty("ignored")[0].GetProperty("reason").GetString());
        Assert.Empty(JobIds(config));
        var id = Assert.Single(JobIds(manifest));
        Assert.Equal("test/umoci@sha256:745b39c620b6a01f38a5701070201a88d9a1bb430aa9f27ed396bfb65dc6693d", manifest.GetProperty("jobs")[0].GetProperty("subject").GetString());
        var job = Assert.Single(await cluster.ListJobsAsync());
        Assert.Equal(id, job.GetProperty("id").GetInt64());
        Assert.Equal("sha256:745b39c620b6a01f38a5701070201a88d9a1bb430aa9f27ed396bfb65dc6693d", job.GetProperty("request").GetProperty("digest").GetString());
        Assert.Equal("http://127.0.0.1:5000/", job.GetProperty("request").GetProperty("upstream").GetString());
    }

    [Theory]
    [InlineData("application/vnd.docker.distribution.events.v1+json", MediaTypes.OciManifest)]
    [InlineData("application/vnd.docker.distribution.events.v2+json", MediaTypes.DockerManifest)]
    [InlineData("text/plain", MediaTypes.OciManifest)]
    public async Task Notify_ManifestPush_OriginsHoldEveryBlob(string contentType, string mediaType)
    {
        var repo = TestData.Repo("notify");
        var image = Cluster.AddImage(repo, "v1", mediaType);

        var (status, body) = await NotifyAsync(Envelope(repo, mediaType, image.Image.Digest, Cluster.Upstream.ManifestUrl(repo, image.Image.Digest.ToString())), contentType);

        Assert.Equal(HttpStatusCode.OK, status);
        var job = await Cluster.WaitForJobAsync(Assert.Single(JobIds(body)));
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal(image.Blobs.Length, job.GetProperty("blobs").GetArrayLength());
        foreach (var blob in image.Blobs)
        {
            Assert.Equal(1, Cluster.Holders(blob)); // single_seed_peer: one owner
        }
    }

    [Fact]
    public async Task Notify_HarborKrakenPascalCase_PreheatsEveryPlatformOfTheIndex()
    {
        var repo = TestData.Repo("kraken");
        var amd = Cluster.AddImage(repo, null);
        var arm = Cluster.AddImage(repo, null);
        var index = Cluster.AddIndex(repo, "1.25", MediaTypes.OciIndex, amd, arm);
        var url = Cluster.Upstream.ManifestUrl(repo, "1.25");
        // Exactly what Harbor's kraken driver sends: PascalCase, schema2 media type whatever the artifact is.
        var body = $$"""{"Events":[{"Id":"a1b2c3","TimeStamp":"2026-11-25T10:00:00Z","Action":"push","Target":{"MediaType":"application/vnd.docker.distribution.manifest.v2+json","Digest":"{{index.Image.Digest}}","Repository":"{{repo}}","Url":"{{url}}","Tag":"1.25"},"Request":null,"Actor":null}]}""";

        var (status, answer) = await NotifyAsync(body, "application/json");

        Assert.Equal(HttpStatusCode.OK, status);
        var job = await Cluster.WaitForJobAsync(Assert.Single(JobIds(answer)));
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal(MediaTypes.OciIndex, job.GetProperty("mediaType").GetString());
        Assert.Equal(index.Blobs.Length, job.GetProperty("blobs").GetArrayLength());
        Assert.All(index.Blobs, b => Assert.True(Cluster.Holders(b) >= 1));
    }

    [Fact]
    public async Task Notify_HarborWebhookAndCloudEvent_StartPreheats()
    {
        var repo = TestData.Repo("webhook");
        var first = Cluster.AddImage(repo, "a");
        var second = Cluster.AddImage(repo, "b");
        var authority = Cluster.Upstream.BaseAddress.Authority;
        var webhook = $$$"""{"type":"PUSH_ARTIFACT","occur_at":1732528800,"operator":"admin","event_data":{"resources":[{"digest":"{{{first.Image.Digest}}}","tag":"a","resource_url":"{{{authority}}}/{{{repo}}}:a"}],"repository":{"date_created":1732528000,"name":"{{{repo.Split('/')[1]}}}","namespace":"{{{repo.Split('/')[0]}}}","repo_full_name":"{{{repo}}}","repo_type":"private"} } }""";
        var cloud = $$$"""{"specversion":"1.0","id":"e1","source":"/projects/1/webhook/policies/1","type":"harbor.artifact.pushed","datacontenttype":"application/json","time":"2026-11-25T10:00:00Z","operator":"admin","data":{"resources":[{"digest":"{{{second.Image.Digest}}}","tag":"b","resource_url":"{{{authority}}}/{{{repo}}}:b"}],"repository":{"name":"{{{repo.Split('/')[1]}}}","namespace":"{{{repo.Split('/')[0]}}}","repo_full_name":"{{{repo}}}","repo_type":"private"} } }""";

        var (webhookStatus, webhookBody) = await NotifyAsync(webhook, "application/json");
        var (cloudStatus, cloudBody) = await NotifyAsync(cloud, "application/cloudevents+json");

        Assert.Equal(HttpStatusCode.OK, webhookStatus);
        Assert.Equal(HttpStatusCode.OK, cloudStatus);
        Assert.Equal("succeeded", (await Cluster.WaitForJobAsync(Assert.Single(JobIds(webhookBody)))).GetProperty("state").GetString());
        Assert.Equal("succeeded", (await Cluster.WaitForJobAsync(Assert.Single(JobIds(cloudBody)))).GetProperty("state").GetString());
        Assert.All(first.Blobs.Concat(second.Blobs), b => Assert.Equal(1, Cluster.Holders(b)));
    }

    [Fact]
    public async Task Notify_SameDigestTwice_DoesTheWorkOnce()
    {
        var repo = TestData.Repo("idem");
        var image = Cluster.AddImage(repo, "v1");
        var envelope = Envelope(repo, MediaTypes.OciManifest, image.Image.Digest, Cluster.Upstream.ManifestUrl(repo, image.Image.Digest.ToString()));

        var (_, first) = await NotifyAsync(envelope);
        var id = Assert.Single(JobIds(first));
        await Cluster.WaitForJobAsync(id);
        var (status, second) = await NotifyAsync(envelope);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(id, Assert.Single(JobIds(second)));
        Assert.False(second.GetProperty("jobs")[0].GetProperty("created").GetBoolean());
        Assert.Single(Cluster.Upstream.Requests, r => r.Request.Contains(repo, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"events":{}}""")]
    [InlineData("""{"events":[{"action":"push"}]}""")]
    [InlineData("""{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:abc","repository":"a/b"}}]}""")]
    [InlineData("""{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","repository":"UPPER/Case"}}]}""")]
    [InlineData("""{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"digest":"nope"}],"repository":{"repo_full_name":"a/b"}}}""")]
    public async Task Notify_Malformed_400AndNoJob(string body)
    {
        var before = (await Cluster.ListJobsAsync()).Length;

        var (status, answer) = await NotifyAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("detail").GetString()));
        Assert.Equal(before, (await Cluster.ListJobsAsync()).Length);
    }

    [Fact]
    public async Task Notify_UnknownMediaTypePullAndForeignRegistry_IgnoredWithReasonsNoFetch()
    {
        var repo = TestData.Repo("ignored");
        var image = Cluster.AddImage(repo, "v1");
        var digest = image.Image.Digest;
        var before = (await Cluster.ListJobsAsync()).Length;
        var requestsBefore = Cluster.Upstream.Requests.Count;
        await using var foreign = await FakeUpstream.StartAsync();
        foreign.Add(repo, image.Image.Manifest, MediaTypes.OciManifest);

        var (s1, unknown) = await NotifyAsync(Envelope(repo, "application/vnd.example.thing+json", digest, Cluster.Upstream.ManifestUrl(repo, digest.ToString())));
        var (s2, pull) = await NotifyAsync(Envelope(repo, MediaTypes.OciManifest, digest, Cluster.Upstream.ManifestUrl(repo, digest.ToString()), action: "pull"));
        var (s3, other) = await NotifyAsync(Envelope(repo, MediaTypes.OciManifest, digest, foreign.ManifestUrl(repo, digest.ToString())));

        Assert.All(new[] { s1, s2, s3 }, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Contains("unsupported media type", unknown.GetProperty("ignored")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("not a push", pull.GetProperty("ignored")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("not a configured upstream", other.GetProperty("ignored")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await Cluster.ListJobsAsync()).Length);
        Assert.Empty(foreign.Requests);
        Assert.Equal(requestsBefore, Cluster.Upstream.Requests.Count);
        Assert.All(image.Blobs, b => Assert.Equal(0, Cluster.Holders(b)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token-123")]
    public async Task Notify_WithoutValidToken_401AndNoJob(string? authorization)
    {
        var repo = TestData.Repo("auth");
        var image = Cluster.AddImage(repo, "v1");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/registry/notifications")
        {
            Content = new StringContent(Envelope(repo, MediaTypes.OciManifest, image.Image.Digest, Cluster.Upstream.ManifestUrl(repo, "v1")), Encoding.UTF8, "application/json"),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await Cluster.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain(await Cluster.ListJobsAsync(), j => j.GetProperty("request").GetProperty("repository").GetString() == repo);
    }

    [Fact]
    public async Task Notify_UpstreamWithTokenAuth_GetsATokenWithTheConfiguredCredentials()
    {
        await using var cluster = await PreheatCluster.StartAsync(configure: o =>
        {
            o.Preheat.Upstreams[0].Username = "robot";
            o.Preheat.Upstreams[0].Password = "secret-pw";
        });
        cluster.Upstream.TokenAuth = ("robot", "secret-pw");
        var repo = TestData.Repo("tokauth");
        var image = cluster.AddImage(repo, "v1");
        using var request = PreheatCluster.Authorized(HttpMethod.Post, "/registry/notifications",
            Envelope(repo, MediaTypes.OciManifest, image.Image.Digest, cluster.Upstream.ManifestUrl(repo, image.Image.Digest.ToString())));

        using var response = await cluster.Http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var job = await cluster.WaitForJobAsync(Assert.Single(JobIds(body)));

        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Contains(cluster.Upstream.Requests, r => r.Request.StartsWith("GET /token", StringComparison.Ordinal));
        Assert.All(image.Blobs, b => Assert.Equal(1, cluster.Holders(b)));
    }

    [Fact]
    public async Task Notify_ForeignRegistryButShoalHoldsTheManifest_PreheatsFromShoal()
    {
        var repo = TestData.Repo("held");
        using var registry = new HttpClient { BaseAddress = Cluster.Http.BaseAddress };
        var config = TestData.Config();
        var configDigest = Digest.Compute(config);
        using (var r = await registry.PostAsync($"/v2/{repo}/blobs/uploads/?digest={configDigest}", new ByteArrayContent(config)))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        var manifest = TestData.ImageManifest(MediaTypes.OciManifest, (configDigest, config.Length), []);
        var put = new ByteArrayContent(manifest);
        put.Headers.ContentType = new(MediaTypes.OciManifest);
        using (var r = await registry.PutAsync($"/v2/{repo}/manifests/v1", put))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        var digest = Digest.Compute(manifest);

        var (status, body) = await NotifyAsync(Envelope(repo, MediaTypes.OciManifest, digest, $"http://registry.invalid:5000/v2/{repo}/manifests/{digest}"));

        Assert.Equal(HttpStatusCode.OK, status);
        var job = await Cluster.WaitForJobAsync(Assert.Single(JobIds(body)));
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.False(job.GetProperty("request").TryGetProperty("upstream", out _));
        Assert.Equal(configDigest.ToString(), job.GetProperty("blobs")[0].GetProperty("digest").GetString());
    }
}
