using Shoal.Hosting;

namespace Shoal.BuildIndex.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_ListenOnTheBuildIndexPort()
    {
        var options = new BuildIndexOptions();

        Assert.Equal(15004, options.Listen.Port);
        Assert.Equal("buildIndex", BuildIndexOptions.ConfigSection);
    }

    [Fact]
    public void Build_WithoutDataDir_ThrowsNamingTheKey()
    {
        var ex = Assert.Throws<ConfigurationException>(() => BuildIndexServer.Build(new BuildIndexOptions { Listen = { Port = 0 } }));

        Assert.Contains("buildIndex:dataDir", ex.Message, StringComparison.Ordinal);
    }
}
