using System.Net;
using Shoal.TestKit;

namespace Shoal.Storage.Tests.Registry;

/// <summary>
/// The real distribution registry (Debian's <c>docker-registry</c>) on a free loopback port with a
/// temporary config and storage, optionally with an <c>auth</c> section; stopped by PID on dispose.
/// </summary>
internal sealed class RegistryProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory;
    private readonly ExternalProcess _process;

    private RegistryProcess(TempDirectory directory, ExternalProcess process, int port)
    {
        _directory = directory;
        _process = process;
        Url = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri Url { get; }

    public string Log => _process.Output;

    /// <summary>
    /// Starts a registry. <paramref name="auth"/> is the body of the <c>auth:</c> section (lines
    /// indented by two spaces), written by <paramref name="configureAuth"/> given a scratch directory.
    /// </summary>
    public static async Task<RegistryProcess> StartAsync(Func<string, Task<string>>? configureAuth = null, bool deleteEnabled = true)
    {
        var program = ToolCheck.Require(ToolCheck.DockerRegistry);
        var directory = new TempDirectory();
        try
        {
            var auth = configureAuth is null ? null : await configureAuth(directory.Path);
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort.Next();
                var config = Path.Combine(directory.Path, "config.yml");
                var text = $"""
                    version: 0.1
                    log:
                      level: warn
                    storage:
                      filesystem:
                        rootdirectory: {Path.Combine(directory.Path, "data")}
                      delete:
                        enabled: {(deleteEnabled ? "true" : "false")}
                    http:
                      addr: 127.0.0.1:{port}

                    """;
                if (auth is not null)
                {
                    text += "auth:\n" + auth;
                }
                await File.WriteAllTextAsync(config, text);
                var process = ExternalProcess.Start(program, ["serve", config], new Dictionary<string, string?> { ["OTEL_TRACES_EXPORTER"] = "none" });
                try
                {
                    await process.WaitForHttpAsync(new Uri($"http://127.0.0.1:{port}/v2/"), StartTimeout,
                        status => status is HttpStatusCode.OK or HttpStatusCode.Unauthorized);
                    return new RegistryProcess(directory, process, port);
                }
                catch (InvalidOperationException) when (attempt < 3 && process.Output.Contains("address already in use", StringComparison.Ordinal))
                {
                    process.Dispose();
                }
                catch
                {
                    process.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        _directory.Dispose();
    }
}
