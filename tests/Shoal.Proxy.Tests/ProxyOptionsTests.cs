using Shoal.Core.Registry;
using Shoal.Hosting;

namespace Shoal.Proxy.Tests;

public sealed class ProxyOptionsTests
{
    [Fact]
    public void Defaults_AreDocumentedValues()
    {
        var options = new ProxyOptions();

        Assert.Equal(15000, options.Listen.Port);
        Assert.Equal(2, options.Replicas);
        Assert.Equal(ManifestDocument.MaxSize, options.MaxManifestSize);
        Assert.Equal(TimeSpan.FromHours(1), options.UploadSessionTtl);
        Assert.Equal("proxy", ProxyOptions.ConfigSection);
    }

    [Fact]
    public void Build_MissingRequiredOptions_ThrowsNamingEachKey()
    {
        var ex = Assert.Throws<ConfigurationException>(() => ProxyServer.Build(new ProxyOptions()));

        Assert.Contains("proxy:dataDir", ex.Message, StringComparison.Ordinal);
        Assert.Contains("proxy:origins", ex.Message, StringComparison.Ordinal);
        Assert.Contains("proxy:buildIndex", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("origins", "ftp://origin:15002")]
    [InlineData("origins", "not a url")]
    [InlineData("buildIndex", "origin:15004")]
    [InlineData("replicas", null)]
    [InlineData("maxManifestSize", null)]
    [InlineData("uploadSessionTtl", null)]
    public void Build_InvalidOption_ThrowsNamingTheKey(string key, string? url)
    {
        var options = new ProxyOptions { DataDir = Path.GetTempPath(), Origins = ["http://origin:15002"], BuildIndex = "http://build-index:15004" };
        switch (key)
        {
            case "origins":
                options.Origins = [url!];
                break;
            case "buildIndex":
                options.BuildIndex = url!;
                break;
            case "replicas":
                options.Replicas = 0;
                break;
            case "maxManifestSize":
                options.MaxManifestSize = 10;
                break;
            default:
                options.UploadSessionTtl = TimeSpan.FromSeconds(5);
                break;
        }

        var ex = Assert.Throws<ConfigurationException>(() => ProxyServer.Build(options));

        Assert.Contains("proxy:" + key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DuplicateOrigin_Throws()
    {
        var options = new ProxyOptions
        {
            DataDir = Path.GetTempPath(),
            Origins = ["http://origin:15002", "http://origin:15002/"],
            BuildIndex = "http://build-index:15004",
        };

        var ex = Assert.Throws<ConfigurationException>(() => ProxyServer.Build(options));

        Assert.Contains("listed twice", ex.Message, StringComparison.Ordinal);
    }
}
