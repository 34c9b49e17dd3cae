using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shoal.Hosting.Metrics;

namespace Shoal.Hosting;

/// <summary>
/// The common shape of every Shoal component: a slim Kestrel host on its configured listener, with
/// <c>GET /health</c> (the process is up), <c>GET /readiness</c> (its dependencies answer) and
/// <c>GET /metrics</c> (Prometheus).
/// </summary>
public static class ServiceHost
{
    /// <summary>
    /// Starts <paramref name="app"/>; when the start fails (a port in use, a store that cannot be
    /// opened), first stops what had started (background services such as the origin's write-back
    /// worker keep running otherwise, and then fail on the stores the host disposes under them), and
    /// rethrows. The caller still disposes the host.
    /// </summary>
    public static async Task StartOrStopAsync(this WebApplication app, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            try
            {
                await app.StopAsync(CancellationToken.None);
            }
            catch (Exception)
            {
                // The start's own failure is the one to report.
            }
            throw;
        }
    }

    /// <summary>Creates a builder that listens where <paramref name="listen"/> says and logs at <paramref name="logLevel"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(string component, ListenOptions listen, LogLevel logLevel = LogLevel.Information)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "shoal-" + component,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(logLevel);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null; // blobs are streamed; components enforce their own limits
            if (!IPAddress.TryParse(listen.Address, out var address))
            {
                throw new ConfigurationException($"{component}:listen:address: '{listen.Address}' is not an IP address");
            }
            kestrel.Listen(address, listen.Port, endpoint =>
            {
                if (listen.Tls is { } tls)
                {
                    var certificate = X509Certificate2.CreateFromPemFile(tls.Certificate, tls.Key);
                    endpoint.UseHttps(certificate);
                }
            });
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<IStartupFilter>(new DiskFullAnswers(component));
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<PrometheusMetrics>();
        return builder;
    }

    /// <summary>Maps <c>/health</c> and <c>/readiness</c>; <paramref name="readiness"/> returns null when ready, else the reason.</summary>
    public static void MapHealth(this WebApplication app, Func<HttpContext, CancellationToken, Task<string?>>? readiness = null)
    {
        app.MapGet("/health", () => Results.Text("OK\n"));
        app.MapGet("/readiness", async (HttpContext context, CancellationToken cancellationToken) =>
        {
            var problem = readiness is null ? null : await readiness(context, cancellationToken);
            return problem is null
                ? Results.Text("OK\n")
                : Results.Problem(title: "not ready", detail: problem, statusCode: StatusCodes.Status503ServiceUnavailable);
        });
    }

    /// <summary>
    /// Maps <c>/metrics</c>: the component's meters in the Prometheus text format (see
    /// <see cref="PrometheusMetrics"/>). Listening starts here, before the host starts, so that
    /// nothing counted after start-up is missed.
    /// </summary>
    public static void MapMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<PrometheusMetrics>();
        app.MapGet("/metrics", () => Results.Text(metrics.Write(), PrometheusMetrics.ContentType));
    }

    /// <summary>The base URL a started host listens on (the real port when 0 was configured).</summary>
    public static Uri BaseAddress(this WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("host is not started");
        return new Uri(first.Replace("://[::]", "://[::1]", StringComparison.Ordinal).Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal) + "/");
    }
}
