namespace Shoal.Proxy.Tests;

/// <summary>One cluster shared by the tests of a class; tests use their own repository names.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private ProxyCluster? _cluster;

    internal ProxyCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _cluster = await ProxyCluster.StartAsync();

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
