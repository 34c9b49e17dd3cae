using Shoal.Hosting.Eviction;
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
        Assert.Empty(options.Backends);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Fetch.ErrorTtl);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Fetch.NotFoundTtl);
        Assert.Equal(0, options.Eviction.Capacity);
        Assert.Equal(0.9, options.Eviction.HighWatermark);
        Assert.Equal(0.8, options.Eviction.LowWatermark);
        Assert.Equal(TimeSpan.Zero, options.Eviction.TimeToIdle);
        Assert.Equal(TimeSpan.FromSeconds(1), options.WriteBack.RetryMinDelay);
        Assert.Equal(TimeSpan.FromMinutes(5), options.WriteBack.RetryMaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Cluster.HealthCheck.Interval);
        Assert.Null(options.Cluster.Dns);
    }

    [Fact]
    public void EffectiveBackends_BackendIsAppendedAsTheCatchAll()
    {
        var team = new BackendOptions { Type = BackendOptions.FileSystem, Root = "/a" };
        var rest = new BackendOptions { Type = BackendOptions.FileSystem, Root = "/b" };
        var options = new OriginOptions { Backends = [new OriginBackendRouteOptions { Namespace = "team/.*", Backend = team }], Backend = rest };

        var routes = options.EffectiveBackends();

        Assert.Equal(["team/.*", ".*"], routes.Select(r => r.Namespace));
        Assert.Same(rest, routes[1].Backend);
    }

    [Theory]
    [InlineData("distribution", null, true)]
    [InlineData("shoal", null, false)]
    [InlineData("distribution", false, false)]
    [InlineData("shoal", true, true)]
    public void WriteThrough_DefaultsByLayout_ExplicitValueWins(string layout, bool? writeThrough, bool expected)
    {
        var route = new OriginBackendRouteOptions
        {
            Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = "/a", Layout = layout },
            WriteThrough = writeThrough,
        };
        Assert.Equal(expected, route.IsWriteThrough);
    }

    [Fact]
    public void Bind_YamlRules_WriteThroughPerRuleAndShorthandByLayout()
    {
        var file = Path.Combine(Path.GetTempPath(), "shoal-origin-" + Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(file, """
            origin:
              dataDir: /unused
              backends:
                - namespace: "fast/.*"
                  backend: { type: filesystem, root: /a }
                  writeThrough: true
                - namespace: "shared/.*"
                  backend: { type: filesystem, root: /b, layout: distribution }
                  writeThrough: false
              backend: { type: filesystem, root: /c, layout: distribution }
            """);
        try
        {
            var options = ShoalConfiguration.Bind<OriginOptions>(ShoalConfiguration.Load(file, []), OriginOptions.ConfigSection);

            Assert.Equal([true, false, true], options.EffectiveBackends().Select(r => r.IsWriteThrough));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Build_BadClusterAndEvictionOptions_ThrowNamingTheKeys()
    {
        var options = new OriginOptions
        {
            DataDir = "/unused",
            Backends = [new OriginBackendRouteOptions { Namespace = "(unclosed", Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = "/a" } }],
            Eviction = new EvictionOptions { HighWatermark = 0.5, LowWatermark = 0.7 },
            WriteBack = new OriginWriteBackOptions { RetryMinDelay = TimeSpan.FromMinutes(10), RetryMaxDelay = TimeSpan.FromMinutes(1) },
            Cluster = new OriginClusterOptions { Origins = ["http://a:15002"], Dns = new OriginDnsOptions { Name = "origins", Scheme = "ftp" } },
        };

        var ex = Assert.Throws<ConfigurationException>(() => OriginServer.Build(options));

        Assert.Contains("origin:backends:0:namespace", ex.Message, StringComparison.Ordinal);
        Assert.Contains("origin:eviction:lowWatermark", ex.Message, StringComparison.Ordinal);
        Assert.Contains("origin:writeBack:retryMaxDelay", ex.Message, StringComparison.Ordinal);
        Assert.Contains("origin:cluster:dns", ex.Message, StringComparison.Ordinal);
        Assert.Contains("origin:cluster:dns:scheme", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveDns_Localhost_YieldsLoopbackOrigins()
    {
        var origins = await ClusterMonitor.ResolveAsync(new OriginDnsOptions { Name = "localhost", Port = 15002 }, CancellationToken.None);
        Assert.Contains("http://127.0.0.1:15002/", origins);
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
