using System.Globalization;
using Microsoft.Extensions.Logging;
using Shoal.Dev;

namespace Shoal.Cli;

/// <summary><c>shoal dev</c>: a whole cluster in this process until Ctrl+C or SIGTERM.</summary>
internal static class DevCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var options = new DevClusterOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (ShoalCli.IsHelp(arg))
            {
                Usage.WriteDev(stdout);
                return ExitCodes.Success;
            }
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 && arg.StartsWith("--", StringComparison.Ordinal) ? arg[..equals] : arg;
            string Value() => equals > 0 && name.Length < arg.Length
                ? arg[(equals + 1)..]
                : i + 1 < args.Length ? args[++i] : throw new UsageException($"{name} needs a value");
            switch (name)
            {
                case "--data":
                    options.DataDir = Value();
                    if (options.DataDir.Length == 0)
                    {
                        throw new UsageException("--data needs a directory");
                    }
                    break;
                case "--agents":
                    var agents = Value();
                    options.AgentCount = int.TryParse(agents, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count <= DevCluster.MaxAgents
                        ? count
                        : throw new UsageException($"--agents: '{agents}' is not a number from 0 to {DevCluster.MaxAgents}");
                    break;
                case "--address":
                    var address = Value();
                    options.Address = System.Net.IPAddress.TryParse(address, out _)
                        ? address
                        : throw new UsageException($"--address: '{address}' is not an IP address");
                    break;
                case "--log-level":
                    var level = Value();
                    options.LogLevel = Enum.TryParse<LogLevel>(level, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(level, out _)
                        ? parsed
                        : throw new UsageException($"--log-level: '{level}' is not one of trace, debug, information, warning, error, critical, none");
                    break;
                default:
                    throw new UsageException($"unknown option '{arg}'");
            }
        }

        using var signals = new ShutdownSignals();
        stdout.WriteLine($"shoal dev: starting build-index, origin, tracker, proxy and {options.AgentCount} agent(s) on {options.Address}...");
        DevCluster cluster;
        try
        {
            cluster = await DevCluster.StartAsync(options, signals.Token);
        }
        catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
        {
            stdout.WriteLine("shoal dev: interrupted while starting; stopped.");
            return ExitCodes.Success;
        }
        catch (IOException ex)
        {
            stderr.WriteLine($"shoal: {ex.Message}");
            stderr.WriteLine($"shoal: is another 'shoal dev' running? Stop it, or use --address with another loopback address (e.g. 127.0.0.2).");
            return ExitCodes.Failure;
        }

        await using (cluster)
        {
            foreach (var component in cluster.Components)
            {
                // A component that stops on its own (fatal error) takes the whole dev cluster down.
                component.App.Lifetime.ApplicationStopping.Register(signals.Trigger);
            }
            WriteEndpoints(stdout, cluster, options.DataDir is null);
            try
            {
                await Task.Delay(Timeout.Infinite, signals.Token);
            }
            catch (OperationCanceledException)
            {
            }
            stdout.WriteLine("shoal dev: stopping...");
            await cluster.StopAsync();
            stdout.WriteLine($"shoal dev: stopped. Data is kept in {cluster.DataDir}");
        }
        return ExitCodes.Success;
    }

    private static void WriteEndpoints(TextWriter stdout, DevCluster cluster, bool freshDataDir)
    {
        stdout.WriteLine();
        stdout.WriteLine($"Shoal dev cluster is ready. Data: {cluster.DataDir}{(freshDataDir ? " (new; kept after exit)" : string.Empty)}");
        stdout.WriteLine();
        var rows = cluster.Components
            .OrderBy(c => c.Name switch { "proxy" => 0, "origin" => 1, "tracker" => 2, "build-index" => 3, _ => 4 })
            .Select(c => (c.Name, Url: c.Url.AbsoluteUri.TrimEnd('/'), Peers: c.PeerEndPoint?.ToString() ?? "-", Data: c.DataDir ?? "-"))
            .ToList();
        var nameWidth = Math.Max("component".Length, rows.Max(r => r.Name.Length));
        var urlWidth = Math.Max("URL".Length, rows.Max(r => r.Url.Length));
        var peersWidth = Math.Max("peers".Length, rows.Max(r => r.Peers.Length));
        stdout.WriteLine($"  {"component".PadRight(nameWidth)}  {"URL".PadRight(urlWidth)}  {"peers".PadRight(peersWidth)}  data");
        foreach (var (name, url, peers, data) in rows)
        {
            stdout.WriteLine($"  {name.PadRight(nameWidth)}  {url.PadRight(urlWidth)}  {peers.PadRight(peersWidth)}  {data}");
        }
        stdout.WriteLine($"  (the origin's storage backend is {cluster.StorageDir})");
        stdout.WriteLine();
        stdout.WriteLine($"Push: skopeo copy --dest-tls-verify=false oci:./my-image:latest docker://{cluster.Proxy.HostPort}/demo/app:v1");
        if (cluster.Agents.Count > 0)
        {
            stdout.WriteLine($"Pull: skopeo copy --src-tls-verify=false docker://{cluster.Agents[0].HostPort}/demo/app:v1 oci:./pulled:v1");
        }
        stdout.WriteLine();
        stdout.WriteLine("Press Ctrl+C to stop.");
        stdout.Flush();
    }
}
