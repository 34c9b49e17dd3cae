using Microsoft.Extensions.Hosting;

namespace Shoal.Dev;

/// <summary>
/// A host lifetime that neither listens for signals nor prints start-up banners: in a dev
/// cluster the process, not each of its hosts, decides when to stop.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
