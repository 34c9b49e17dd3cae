using Microsoft.Extensions.Configuration;
using Shoal.Hosting;

namespace Shoal.Agent.Tests;

public sealed class AgentOptionsTests
{
    [Fact]
    public void Build_MissingRequiredOptions_ThrowsNamingEachKey()
    {
        var ex = Assert.Throws<ConfigurationException>(() => AgentServer.Build(new AgentOptions()));

        Assert.Contains("agent:dataDir", ex.Message, StringComparison.Ordinal);
        Assert.Contains("agent:buildIndex", ex.Message, StringComparison.Ordinal);
        Assert.Contains("agent:origins", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_MalformedUrls_ThrowsNamingEachKey()
    {
        var options = new AgentOptions
        {
            DataDir = "/var/lib/shoal-agent",
            BuildIndex = "build-index:15004",
            Origins = ["http://origin-1:15002", "ftp://origin-2"],
            Tracker = "not a url",
            UpstreamTimeout = TimeSpan.Zero,
        };

        var ex = Assert.Throws<ConfigurationException>(() => AgentServer.Build(options));

        Assert.Contains("agent:buildIndex", ex.Message, StringComparison.Ordinal);
        Assert.Contains("agent:origins: origins[1]", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("origins[0]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("agent:tracker", ex.Message, StringComparison.Ordinal);
        Assert.Contains("agent:upstreamTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ReplicasOutOfRange_ThrowsNamingTheKey()
    {
        var options = new AgentOptions { DataDir = "/var/lib/shoal-agent", BuildIndex = "http://build-index:15004", Origins = ["http://origin-1:15002"], Replicas = 0 };

        var ex = Assert.Throws<ConfigurationException>(() => AgentServer.Build(options));

        Assert.Contains("agent:replicas", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_FromConfiguration_ReadsKeysAndKeepsDefaults()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["agent:dataDir"] = "/var/lib/shoal-agent",
            ["agent:buildIndex"] = "https://build-index:15004",
            ["agent:origins:0"] = "https://origin-1:15002",
            ["agent:origins:1"] = "https://origin-2:15002",
            ["agent:upstreamTimeout"] = "00:00:30",
            ["agent:clientTls:caCertificate"] = "/etc/shoal/ca.pem",
        }).Build();

        var options = ShoalConfiguration.Bind<AgentOptions>(configuration, AgentOptions.ConfigSection);

        Assert.Equal(16000, options.Listen.Port);
        Assert.Equal(2, options.Replicas);
        Assert.Equal(["https://origin-1:15002", "https://origin-2:15002"], options.Origins);
        Assert.Equal(TimeSpan.FromSeconds(30), options.UpstreamTimeout);
        Assert.Equal("/etc/shoal/ca.pem", options.ClientTls?.CaCertificate);
        Assert.Null(options.Tracker);
    }
}
