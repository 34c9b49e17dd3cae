using Microsoft.Extensions.Hosting;
using Shoal.P2P.Engine;

namespace Shoal.Agent.Internal;

/// <summary>Starts the peer-to-peer listener with the host and stops every swarm with it (saving partial downloads).</summary>
internal sealed class PeerEngineService(PeerEngine engine) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        engine.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await engine.DisposeAsync();
}
