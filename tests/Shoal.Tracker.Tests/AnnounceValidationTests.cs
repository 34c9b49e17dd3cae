using System.Net;
using System.Text;
using System.Text.Json;

namespace Shoal.Tracker.Tests;

public sealed class AnnounceValidationTests : IAsyncLifetime
{
    private static readonly string Digest = TrackerHost.SomeDigest.ToString();
    private static readonly string Id = new('a', 40);
    private TrackerHost _host = null!;

    public async Task InitializeAsync() => _host = await TrackerHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678")]
    [InlineData("abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567890")]
    [InlineData("ghijkl0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("x")]
    public async Task Announce_InvalidInfoHash_Returns400(string infoHash)
    {
        var response = await PostAsync(infoHash, Body(Digest, Id, "127.0.0.1", 7000));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("info hash", response.Detail, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> InvalidBodies() => new()
    {
        { Body("sha256:abc", Id, "127.0.0.1", 7000), "digest" },
        { Body("md5:d41d8cd98f00b204e9800998ecf8427e", Id, "127.0.0.1", 7000), "digest" },
        { Body(Digest, "", "127.0.0.1", 7000), "peer id" },
        { Body(Digest, "not-hex", "127.0.0.1", 7000), "peer id" },
        { Body(Digest, new string('a', 65), "127.0.0.1", 7000), "peer id" },
        { Body(Digest, Id, "not-an-ip", 7000), "peer ip" },
        { Body(Digest, Id, "", 7000), "peer ip" },
        { Body(Digest, Id, "127.0.0.1", 0), "peer port" },
        { Body(Digest, Id, "127.0.0.1", 65536), "peer port" },
        { Body(Digest, Id, "127.0.0.1", -1), "peer port" },
        { "{\"digest\":\"" + Digest + "\"}", "no peer" },
        { "{\"digest\":\"" + Digest + "\",\"namespace\":\"Not/Valid\",\"peer\":{\"id\":\"aa\",\"ip\":\"127.0.0.1\",\"port\":1}}", "repository name" },
        { "not json", "not an announce" },
        { "null", "null" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Announce_InvalidBody_Returns400NamingTheProblem(string body, string expected)
    {
        var infoHash = TrackerHost.NewInfoHash();

        var response = await PostAsync(infoHash, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains(expected, response.Detail, StringComparison.Ordinal);
        // Nothing was recorded: the next valid announce finds an empty swarm.
        Assert.Empty((await _host.AnnounceAsync(infoHash, TrackerHost.Peer(1))).Peers);
    }

    [Fact]
    public async Task Announce_OversizedBody_Returns413()
    {
        var body = Body(Digest, Id, "127.0.0.1", 7000).TrimEnd('}') + new string(' ', 100_000) + "}";

        var response = await PostAsync(TrackerHost.NewInfoHash(), body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.Status);
    }

    [Fact]
    public async Task Announce_IPv6Peer_IsAccepted()
    {
        var infoHash = TrackerHost.NewInfoHash();
        await PostAsync(infoHash, Body(Digest, Id, "::1", 7000));

        var response = await _host.AnnounceAsync(infoHash, TrackerHost.Peer(1));

        Assert.Equal("::1", Assert.Single(response.Peers).Ip);
    }

    private static string Body(string digest, string id, string ip, int port)
        => $"{{\"digest\":\"{digest}\",\"peer\":{{\"id\":\"{id}\",\"ip\":\"{ip}\",\"port\":{port},\"origin\":false,\"complete\":false}}}}";

    private async Task<(HttpStatusCode Status, string Detail)> PostAsync(string infoHash, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _host.Http.PostAsync("v1/announce/" + infoHash, content);
        var text = await response.Content.ReadAsStringAsync();
        var detail = "";
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            using var problem = JsonDocument.Parse(text);
            detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        }
        return (response.StatusCode, detail);
    }
}
