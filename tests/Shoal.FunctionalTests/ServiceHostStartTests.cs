using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shoal.Hosting;

namespace Shoal.FunctionalTests;

/// <summary>
/// A component whose start fails (its port is taken) stops the background services that had
/// already started before the host is disposed: left running, they used stores the host disposed
/// under them and printed the failure with a stack trace.
/// </summary>
public sealed class ServiceHostStartTests
{
    [Fact]
    public async Task StartOrStop_PortInUse_StopsTheBackgroundServicesThatStarted()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var builder = ServiceHost.CreateBuilder("test", new ListenOptions { Address = "127.0.0.1", Port = port });
        var worker = new Worker();
        builder.Services.AddHostedService(_ => worker);
        await using var app = builder.Build();

        await Assert.ThrowsAnyAsync<IOException>(() => app.StartOrStopAsync(CancellationToken.None));

        // Hosted services start before the server binds; without the stop, the worker would still be
        // waiting for its stopping token here while the host goes on to dispose its services.
        Assert.NotNull(worker.ExecuteTask);
        Assert.True(worker.ExecuteTask.IsCompleted, "the worker was still running after the failed start");
    }

    private sealed class Worker : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Delay(Timeout.Infinite, stoppingToken);
    }
}
