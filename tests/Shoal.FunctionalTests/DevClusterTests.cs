using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Shoal.Dev;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>The in-process cluster the end-to-end tests (and <c>shoal dev</c>) are built on.</summary>
[Trait("Category", "Functional")]
public sealed class DevClusterTests : IDisposable
{
    private readonly TempDirectory _temp = new("shoal-devcluster");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task StartAsync_PortZero_EveryComponentReadyOnItsOwnPortAndDataDirectory()
    {
        await using var cluster = await DevCluster.StartAsync(new DevClusterOptions
        {
            DataDir = _temp.Path,
            AgentCount = 3,
            UsePortZero = true,
            LogLevel = LogLevel.Warning,
        });

        Assert.Equal(["build-index", "origin", "tracker", "proxy", "agent-0", "agent-1", "agent-2"], cluster.Components.Select(c => c.Name));
        Assert.Equal(cluster.Components.Count, cluster.Components.Select(c => c.Url.Port).Distinct().Count());
        Assert.All(cluster.Components, c => Assert.NotEqual(0, c.Url.Port));
        using var http = new HttpClient();
        foreach (var component in cluster.Components)
        {
            using var readiness = await http.GetAsync(new Uri(component.Url, "readiness"));
            Assert.True(readiness.IsSuccessStatusCode, $"{component.Name}: {(int)readiness.StatusCode}");
            if (component.DataDir is not null)
            {
                Assert.Equal(Path.Combine(_temp.Path, component.Name), component.DataDir);
                Assert.True(Directory.Exists(component.DataDir));
            }
        }
        Assert.Null(cluster.Tracker.DataDir);
        Assert.Equal(200, await Registry.PingAsync(cluster.Proxy.Url));
        Assert.All(cluster.Agents, agent => Assert.Equal(200, Registry.PingAsync(agent.Url).GetAwaiter().GetResult()));
    }

    [Fact]
    public async Task StopAsync_StopsEveryComponent()
    {
        var cluster = await DevCluster.StartAsync(new DevClusterOptions { DataDir = _temp.Path, AgentCount = 1, UsePortZero = true, LogLevel = LogLevel.Warning });
        var endpoints = cluster.Components.Select(c => c.Url).ToList();

        await cluster.StopAsync();
        await cluster.DisposeAsync(); // a second stop is harmless

        foreach (var url in endpoints)
        {
            Assert.False(await FreePort.IsOpenAsync(url.Host, url.Port), $"{url} still accepts connections");
        }
    }

    [Fact]
    public async Task StartAsync_PortTaken_ThrowsNamingTheComponentAndStopsWhatHadStarted()
    {
        var address = $"127.0.{Environment.ProcessId % 200}.9";
        using var squatter = new TcpListener(IPAddress.Parse(address), DevCluster.TrackerPort);
        squatter.Start();

        var error = await Assert.ThrowsAsync<IOException>(() => DevCluster.StartAsync(new DevClusterOptions
        {
            DataDir = _temp.Path,
            AgentCount = 1,
            Address = address,
            LogLevel = LogLevel.Warning,
        }));

        Assert.StartsWith("tracker: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(DevCluster.TrackerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.False(await FreePort.IsOpenAsync(address, DevCluster.BuildIndexPort));
        Assert.False(await FreePort.IsOpenAsync(address, DevCluster.OriginPort));
    }

    [Fact]
    public async Task StartAsync_PeerPortTaken_ThrowsNamingTheAgentAndPort()
    {
        var address = $"127.0.{Environment.ProcessId % 200}.10";
        var peerPort = DevCluster.AgentBasePort + DevCluster.AgentPortStep + 1; // agent-1's peer-to-peer port
        using var squatter = new TcpListener(IPAddress.Parse(address), peerPort);
        squatter.Start();

        var error = await Assert.ThrowsAsync<IOException>(() => DevCluster.StartAsync(new DevClusterOptions
        {
            DataDir = _temp.Path,
            AgentCount = 2,
            Address = address,
            LogLevel = LogLevel.Warning,
        }));

        Assert.StartsWith("agent-1: ", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{address}:{peerPort}", error.Message, StringComparison.Ordinal);
        Assert.False(await FreePort.IsOpenAsync(address, DevCluster.AgentBasePort));
        Assert.False(await FreePort.IsOpenAsync(address, DevCluster.ProxyPort));
    }

    [Fact]
    public async Task StartAsync_BadOptions_Throws()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => DevCluster.StartAsync(new DevClusterOptions { AgentCount = -1, DataDir = _temp.Path }));
        await Assert.ThrowsAsync<ArgumentException>(() => DevCluster.StartAsync(new DevClusterOptions { Address = "localhost", DataDir = _temp.Path }));
    }
}
