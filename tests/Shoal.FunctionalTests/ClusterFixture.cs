using Microsoft.Extensions.Logging;
using Shoal.Dev;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>One in-process dev cluster on free ports (two agents), shared by the end-to-end tests of a collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("shoal-e2e");

    public DevCluster Cluster { get; private set; } = null!;

    /// <summary>Where tests put their source images and pulled copies.</summary>
    public TempDirectory Work { get; } = new("shoal-work");

    public async Task InitializeAsync()
    {
        Cluster = await DevCluster.StartAsync(new DevClusterOptions
        {
            DataDir = _data.Path,
            AgentCount = 2,
            UsePortZero = true,
            LogLevel = LogLevel.Warning,
        });
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
        Work.Dispose();
        _data.Dispose();
    }
}

/// <summary>The end-to-end tests that share one <see cref="ClusterFixture"/> (and so run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "dev cluster";
}
