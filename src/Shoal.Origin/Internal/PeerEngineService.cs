using Microsoft.Extensions.Hosting;
using Shoal.P2P.Engine;

namespace Shoal.Origin.Internal;

/// <summary>Starts the origin's peer-to-peer listener with the host and stops it with it.</summary>
internal sealed class PeerEngineService(PeerEngine engine) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        engine.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await engine.DisposeAsync();
}
