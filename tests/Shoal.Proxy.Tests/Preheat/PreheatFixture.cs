namespace Shoal.Proxy.Tests.Preheat;

/// <summary>One preheat cluster (with an agent, tokens required) shared by the tests of a class; tests use their own repositories.</summary>
public sealed class PreheatFixture : IAsyncLifetime
{
    private PreheatCluster? _cluster;

    internal PreheatCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _cluster = await PreheatCluster.StartAsync(withAgent: true);

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
