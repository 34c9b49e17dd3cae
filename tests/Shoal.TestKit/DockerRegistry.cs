using System.Net;

namespace Shoal.TestKit;

/// <summary>
/// A private reference registry (the CNCF distribution registry, Debian's <c>docker-registry</c>)
/// on a free loopback port with its storage under a temporary directory, to compare Shoal's
/// behaviour with. Stopped by PID on dispose.
/// </summary>
public sealed class DockerRegistry : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory;
    private readonly ExternalProcess _process;

    private DockerRegistry(TempDirectory directory, ExternalProcess process, int port)
    {
        _directory = directory;
        _process = process;
        Url = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>The registry's base URL.</summary>
    public Uri Url { get; }

    /// <summary><c>host:port</c>, as image references name it.</summary>
    public string HostPort => Url.Authority;

    /// <summary>Its log so far.</summary>
    public string Log => _process.Output;

    /// <summary>Starts the registry and waits (bounded) until <c>/v2/</c> answers (401 counts when it authenticates).</summary>
    /// <param name="extraConfig">YAML appended to the configuration (top-level sections, e.g. <c>notifications:</c>).</param>
    /// <param name="rootDirectory">The filesystem storage's root directory (it holds <c>docker/registry/v2/</c>). Default: a directory inside the registry's temporary directory.</param>
    /// <param name="configureAuth">Writes what authentication needs (an htpasswd file, a certificate) into the scratch directory it is given and returns the body of the <c>auth:</c> section (lines indented by two spaces).</param>
    /// <param name="deleteEnabled">Whether the registry accepts DELETE.</param>
    public static async Task<DockerRegistry> StartAsync(string? extraConfig = null, string? rootDirectory = null, Func<string, Task<string>>? configureAuth = null, bool deleteEnabled = true)
    {
        var program = ToolCheck.Require(ToolCheck.DockerRegistry);
        var directory = new TempDirectory("shoal-registry");
        try
        {
            var auth = configureAuth is null ? null : await configureAuth(directory.Path);
            // A port picked now may be taken before the registry binds it: try a few.
            for (var attempt = 1; ; attempt++)
            {
                var listenPort = FreePort.Next();
                var config = directory.Combine("config.yml");
                await File.WriteAllTextAsync(config, $"""
                    version: 0.1
                    log:
                      level: warn
                    storage:
                      filesystem:
                        rootdirectory: {rootDirectory ?? directory.Combine("data")}
                      delete:
                        enabled: {(deleteEnabled ? "true" : "false")}
                    http:
                      addr: 127.0.0.1:{listenPort}
                    """ + (auth is null ? string.Empty : "\nauth:\n" + auth) + (extraConfig is null ? string.Empty : "\n" + extraConfig));
                var process = ExternalProcess.Start(program, ["serve", config], new Dictionary<string, string?> { ["OTEL_TRACES_EXPORTER"] = "none" });
                try
                {
                    await process.WaitForHttpAsync(new Uri($"http://127.0.0.1:{listenPort}/v2/"), StartTimeout,
                        status => status == HttpStatusCode.OK || (auth is not null && status == HttpStatusCode.Unauthorized));
                    return new DockerRegistry(directory, process, listenPort);
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

    /// <summary>
    /// A <c>configureAuth</c> for <see cref="StartAsync"/>: basic authentication of one user, from a
    /// bcrypt htpasswd file written by <see cref="ToolCheck.Htpasswd"/>.
    /// </summary>
    public static Func<string, Task<string>> BasicAuth(string user, string password) => async directory =>
    {
        var htpasswd = ToolCheck.Require(ToolCheck.Htpasswd);
        var entry = (await ExternalProcess.RunAsync(htpasswd, ["-Bbn", user, password], TimeSpan.FromSeconds(30))).EnsureSuccess().StandardOutput.Trim();
        var file = Path.Combine(directory, "htpasswd");
        await File.WriteAllTextAsync(file, entry + "\n");
        return $"  htpasswd:\n    realm: shoal-test\n    path: {file}\n";
    };

    public void Dispose()
    {
        _process.Dispose();
        _directory.Dispose();
    }
}
