using Shoal.Hosting;
using Shoal.Origin.Internal;
using Shoal.Storage;

namespace Shoal.Origin.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_MatchTheDocumentation()
    {
        var options = new OriginOptions();
        Assert.Equal(15002, options.Listen.Port);
        Assert.Equal(TimeSpan.FromHours(1), options.UploadSessionTtl);
        Assert.Equal(2, options.Cluster.Replicas);
        Assert.Empty(options.Cluster.Origins);
        Assert.Null(options.Backend);
    }

    [Fact]
    public void Build_MissingDataDir_ThrowsNamingTheKey()
    {
        var ex = Assert.Throws<ConfigurationException>(() => OriginServer.Build(new OriginOptions()));
        Assert.Contains("origin:dataDir", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_BadNestedOptions_ThrowsNamingEveryKey()
    {
        var options = new OriginOptions
        {
            DataDir = "/unused",
            Backend = new BackendOptions { Type = "tape" },
            UploadSessionTtl = TimeSpan.FromSeconds(1),
            Cluster = new OriginClusterOptions { Origins = ["http://a:15002", "ftp://b", "http://a:15002/"], Self = "http://c:15002" },
        };

        var ex = Assert.Throws<ConfigurationException>(() => OriginServer.Build(options));

        Assert.Contains("origin:backend:type", ex.Message, StringComparison.Ordinal);
        Assert.Contains("origin:uploadSessionTtl", ex.Message, StringComparison.Ordinal);
        Assert.Contains("origin:cluster:origins: origins[1]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("listed twice", ex.Message, StringComparison.Ordinal);
        Assert.Contains("origin:cluster:self", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ZeroReplicas_ThrowsNamingTheKey()
    {
        var options = new OriginOptions { DataDir = "/unused", Cluster = new OriginClusterOptions { Replicas = 0 } };
        var ex = Assert.Throws<ConfigurationException>(() => OriginServer.Build(options));
        Assert.Contains("origin:cluster:replicas", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(60, 15)]
    [InlineData(3600, 300)]
    [InlineData(86400, 300)]
    public void PurgeInterval_IsAQuarterOfTheTtlCapped(int ttlSeconds, int expectedSeconds)
        => Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), UploadPurger.IntervalFor(TimeSpan.FromSeconds(ttlSeconds)));
}
