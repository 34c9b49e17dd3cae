using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Hosting;
using Shoal.Proxy.Preheat;

namespace Shoal.Proxy.Tests.Preheat;

/// <summary>
/// Scope all_peers reaches the agents a DNS name resolves to, resolved again for every job. Every
/// agent of a test listens on 127.0.0.1 (one port per agent), which no DNS record can express with
/// one name and one port; so the tests stand a fake resolver in for DNS (the proxy's
/// <see cref="HostResolver"/> seam) and let it answer 127.0.0.1 — the real agent — and other loopback
/// addresses where nothing listens. One test goes through the system resolver with <c>localhost</c>.
/// </summary>
public sealed class AgentDiscoveryTests
{
    private const string Name = "shoal-agent.kube-system.svc.cluster.local";

    /// <summary>The addresses the fake DNS answers for <see cref="Name"/>, and every name it was asked.</summary>
    private sealed class FakeDns
    {
        public IPAddress[] Addresses { get; set; } = [IPAddress.Loopback];

        public ConcurrentQueue<string> Queries { get; } = new();

        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        {
            Queries.Enqueue(host);
            return host == Name ? Task.FromResult(Addresses) : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
        }
    }

    private static Task<PreheatCluster> StartAsync(FakeDns? dns, Func<int, string[]> agents)
        => PreheatCluster.StartAsync(
            withAgent: true,
            configure: options =>
            {
                var port = new Uri(options.Preheat.Agents[0]).Port;
                options.Preheat.Agents = [.. agents(port)];
            },
            configureProxy: dns is null ? null : builder => builder.Services.AddSingleton(new HostResolver(dns.ResolveAsync)));

    private static async Task<JsonElement> PreheatAllPeersAsync(PreheatCluster cluster, string repo)
    {
        cluster.AddImage(repo, "1.0");
        using var response = await cluster.Http.SendAsync(PreheatCluster.Authorized(HttpMethod.Post, "/v1/preheat/jobs",
            $$"""{"image":"{{cluster.Upstream.BaseAddress.Authority}}/{{repo}}:1.0","scope":"all_peers"}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        return await cluster.WaitForJobAsync(id);
    }

    private static Dictionary<string, string> AgentStates(JsonElement job)
        => job.GetProperty("agents").EnumerateArray().ToDictionary(a => a.GetProperty("url").GetString()!, a => a.GetProperty("state").GetString()!);

    [Fact]
    public async Task AllPeers_DnsName_ResolvedAgainForEveryJob()
    {
        var dns = new FakeDns();
        await using var cluster = await StartAsync(dns, port => [$"dns+http://{Name}:{port}"]);
        var port = cluster.AgentApp!.BaseAddress().Port;

        var first = await PreheatAllPeersAsync(cluster, TestData.Repo("dns"));
        // The Service gained a pod: the next job must reach it too (127.0.0.2: nothing listens, so it fails).
        dns.Addresses = [IPAddress.Loopback, IPAddress.Parse("127.0.0.2")];
        var second = await PreheatAllPeersAsync(cluster, TestData.Repo("dns"));

        Assert.Equal("succeeded", first.GetProperty("state").GetString());
        Assert.Equal(new Dictionary<string, string> { [$"http://127.0.0.1:{port}/"] = "succeeded" }, AgentStates(first));
        Assert.Equal(new Dictionary<string, string> { [$"http://127.0.0.1:{port}/"] = "succeeded", [$"http://127.0.0.2:{port}/"] = "failed" }, AgentStates(second));
        Assert.Equal("failed", second.GetProperty("state").GetString());
        Assert.Contains("127.0.0.2", second.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, dns.Queries.Count(q => q == Name));
    }

    [Fact]
    public async Task AllPeers_DnsAndStaticNamingTheSameAgent_AskedOnce()
    {
        var dns = new FakeDns();
        await using var cluster = await StartAsync(dns, port => [$"http://127.0.0.1:{port}", $"dns+http://{Name}:{port}"]);

        var job = await PreheatAllPeersAsync(cluster, TestData.Repo("dedupe"));

        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Single(AgentStates(job));
    }

    [Fact]
    public async Task AllPeers_NameThatDoesNotResolve_FailsTheJobNamingIt()
    {
        var dns = new FakeDns();
        await using var cluster = await StartAsync(dns, port => [$"http://127.0.0.1:{port}", $"dns+http://gone.example.internal:{port}"]);

        var job = await PreheatAllPeersAsync(cluster, TestData.Repo("nxdomain"));

        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("gone.example.internal did not resolve", job.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("succeeded", AgentStates(job).Values);
    }

    [Fact]
    public async Task AllPeers_EmptyAnswer_FailsTheJob()
    {
        var dns = new FakeDns { Addresses = [] };
        await using var cluster = await StartAsync(dns, port => [$"dns+http://{Name}:{port}"]);

        var job = await PreheatAllPeersAsync(cluster, TestData.Repo("empty"));

        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("resolved to no address", job.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllPeers_LocalhostThroughTheSystemResolver_ReachesTheAgent()
    {
        await using var cluster = await StartAsync(dns: null, port => [$"dns+http://localhost:{port}"]);
        var port = cluster.AgentApp!.BaseAddress().Port;

        var job = await PreheatAllPeersAsync(cluster, TestData.Repo("localhost"));

        // localhost may also resolve to ::1, where the agent (bound to 127.0.0.1) does not listen.
        Assert.Equal("succeeded", AgentStates(job)[$"http://127.0.0.1:{port}/"]);
    }

    [Theory]
    [InlineData("dns+http://agents:16000", null)]
    [InlineData("dns+https://agents.ns.svc.cluster.local", null)]
    [InlineData("http://node-1:16000", null)]
    [InlineData("dns+ftp://agents:16000", "dns+http://name[:port]")]
    [InlineData("dns+http://agents:16000/v1", "no path")]
    [InlineData("dns:///agents:16000", "not an absolute http")]
    public void Entry_Validated(string entry, string? error)
    {
        if (error is null)
        {
            Assert.Null(AgentDirectory.Error(entry));
        }
        else
        {
            Assert.Contains(error, AgentDirectory.Error(entry), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Resolve_DnsEntryWithoutPort_UsesTheAgentPort()
    {
        var dns = new FakeDns { Addresses = [IPAddress.Parse("10.0.0.7"), IPAddress.Parse("fd00::7")] };
        var directory = new AgentDirectory(new PreheatOptions { Agents = [$"dns+https://{Name}"] }, new HostResolver(dns.ResolveAsync));

        var targets = await directory.ResolveAsync(CancellationToken.None);

        Assert.Equal(["https://10.0.0.7:16000/", "https://[fd00::7]:16000/"], targets.Select(t => t.Url!.AbsoluteUri).ToArray());
    }

    [Fact]
    public void Build_InvalidAgentEntry_ThrowsNamingTheKey()
    {
        var options = new ProxyOptions { DataDir = Path.GetTempPath(), Origins = ["http://origin:15002"], BuildIndex = "http://build-index:15004" };
        options.Preheat.Agents = ["dns+http://agents:16000/path"];

        var ex = Assert.Throws<ConfigurationException>(() => ProxyServer.Build(options));

        Assert.Contains("proxy:preheat:agents", ex.Message, StringComparison.Ordinal);
    }
}
