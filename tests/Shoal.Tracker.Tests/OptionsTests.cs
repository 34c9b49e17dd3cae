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
        Assert.Null(options.SeederAnnounceInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), options.EffectiveSeederAnnounceInterval);
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

    [Theory]
    [InlineData(30)]
    [InlineData(0)]
    public void Build_SeederIntervalNotWithinTheTtl_ThrowsNamingTheKey(int seconds)
    {
        var options = new TrackerOptions { Listen = { Port = 0 }, Origins = [TrackerHost.UnusedOrigin], SeederAnnounceInterval = TimeSpan.FromSeconds(seconds) };

        var ex = Assert.Throws<ConfigurationException>(() => TrackerServer.Build(options));

        Assert.Contains("tracker:seederAnnounceInterval", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EffectiveSeederInterval_ShortTtl_NeverBelowTheAnnounceInterval()
    {
        var options = new TrackerOptions { AnnounceInterval = TimeSpan.FromSeconds(5), PeerTtl = TimeSpan.FromSeconds(9) };

        Assert.Equal(TimeSpan.FromSeconds(5), options.EffectiveSeederAnnounceInterval);
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
