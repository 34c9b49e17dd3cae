using Shoal.Hosting;

namespace Shoal.Tracker.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_MatchTheDocumentedValues()
    {
        var options = new TrackerOptions();

        Assert.Equal("tracker", TrackerOptions.ConfigSection);
        Assert.Equal(15003, options.Listen.Port);
        Assert.Equal(2, options.Replicas);
        Assert.Equal(TimeSpan.FromSeconds(3), options.AnnounceInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), options.PeerTtl);
        Assert.Equal(50, options.MaxPeersPerAnnounce);
        Assert.Empty(options.OriginPeers);
    }

    [Fact]
    public void Build_InconsistentOptions_ThrowsNamingEveryKey()
    {
        var options = new TrackerOptions
        {
            Listen = { Port = 0 },
            Origins = ["ftp://origin"],
            OriginPeers = ["origin-without-port"],
            PeerTtl = TimeSpan.FromSeconds(2),
        };

        var ex = Assert.Throws<ConfigurationException>(() => TrackerServer.Build(options));

        Assert.Contains("tracker:origins", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tracker:originPeers", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tracker:peerTtl", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ZeroPeersPerAnnounce_ThrowsNamingTheKey()
    {
        var options = new TrackerOptions { Listen = { Port = 0 }, Origins = [TrackerHost.UnusedOrigin], MaxPeersPerAnnounce = 0 };

        var ex = Assert.Throws<ConfigurationException>(() => TrackerServer.Build(options));

        Assert.Contains("tracker:maxPeersPerAnnounce", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithoutOrigins_Throws()
    {
        var ex = Assert.Throws<ConfigurationException>(() => TrackerServer.Build(new TrackerOptions { Listen = { Port = 0 } }));

        Assert.Contains("tracker:origins", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_WithNoOriginUp_IsReady()
    {
        await using var host = await TrackerHost.StartAsync();

        using var response = await host.Http.GetAsync("readiness");

        Assert.True(response.IsSuccessStatusCode);
    }
}
