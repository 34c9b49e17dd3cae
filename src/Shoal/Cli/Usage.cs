using Shoal.Dev;

namespace Shoal.Cli;

/// <summary>The help texts of <c>shoal</c> and its subcommands.</summary>
internal static class Usage
{
    public static void WriteMain(TextWriter writer)
    {
        writer.WriteLine("shoal — peer-to-peer container image distribution");
        writer.WriteLine();
        writer.WriteLine("Usage:");
        writer.WriteLine("  shoal <command> [options]");
        writer.WriteLine();
        writer.WriteLine("Components (each runs one server until Ctrl+C or SIGTERM):");
        foreach (var command in ComponentCommand.All)
        {
            writer.WriteLine($"  {command.Name,-13} {command.Summary}");
        }
        writer.WriteLine();
        writer.WriteLine("Other commands:");
        writer.WriteLine("  dev           every component in one process on 127.0.0.1, for trying Shoal out");
        writer.WriteLine("  preheat       warm origins (and agents) with an image before nodes pull it");
        writer.WriteLine("  version       print the version");
        writer.WriteLine("  help [cmd]    show this help, or a command's");
        writer.WriteLine();
        writer.WriteLine("Run 'shoal <command> --help' for a command's options and configuration keys.");
        writer.WriteLine();
        writer.WriteLine("Exit codes: 0 stopped normally, 1 failed while running (e.g. port in use),");
        writer.WriteLine("            2 bad arguments or configuration (nothing started).");
    }

    public static void WriteComponent(TextWriter writer, ComponentCommand command)
    {
        var section = command.Section;
        writer.WriteLine($"Usage: shoal {command.Name} [--config FILE] [--{section}:<key>=<value> ...]");
        writer.WriteLine();
        writer.WriteLine($"Runs the {command.Name}: {command.Summary}.");
        writer.WriteLine("Stops gracefully on Ctrl+C or SIGTERM (in-flight requests finish).");
        writer.WriteLine();
        writer.WriteLine("Options:");
        var overrideForm = $"--{section}:<key>=<value>";
        var width = Math.Max("-c, --config FILE".Length, overrideForm.Length) + 3;
        writer.WriteLine($"  {"-c, --config FILE".PadRight(width)}YAML file; its '{section}:' section configures this component");
        writer.WriteLine($"  {overrideForm.PadRight(width)}override one key, e.g. --{section}:listen:port=8080");
        writer.WriteLine($"  {"-h, --help".PadRight(width)}show this help");
        writer.WriteLine();
        writer.WriteLine("Configuration is read from FILE, then from environment variables");
        writer.WriteLine($"SHOAL_{section.ToUpperInvariant()}__<KEY> ('__' between levels, e.g. SHOAL_{section.ToUpperInvariant()}__LISTEN__PORT),");
        writer.WriteLine("then from the overrides; later sources win. Lists take one key per entry");
        writer.WriteLine($"(--{section}:<key>:0=..., --{section}:<key>:1=...). Durations are hh:mm:ss.");
        writer.WriteLine();
        writer.WriteLine("Configuration keys:");
        ConfigurationKeys.Write(writer, ConfigurationKeys.For(command.OptionsType, section));
    }

    public static void WriteDev(TextWriter writer)
    {
        writer.WriteLine("Usage: shoal dev [--data DIR] [--agents N] [--address IP] [--log-level LEVEL]");
        writer.WriteLine();
        writer.WriteLine("Runs build-index, origin, tracker, proxy and N agents in one process, wired to each");
        writer.WriteLine("other, with local-disk storage (DIR/storage is the origin's storage backend), and");
        writer.WriteLine("prints their endpoints once all are ready:");
        writer.WriteLine($"  proxy {DevCluster.ProxyPort}, origin {DevCluster.OriginPort} (peers {DevCluster.OriginPeerPort}), tracker {DevCluster.TrackerPort}, build-index {DevCluster.BuildIndexPort},");
        writer.WriteLine($"  agent i on {DevCluster.AgentBasePort} + {DevCluster.AgentPortStep}·i ({DevCluster.AgentBasePort}, {DevCluster.AgentBasePort + DevCluster.AgentPortStep}, ...; peers on the next port).");
        writer.WriteLine("Stops every component cleanly on Ctrl+C or SIGTERM (a second one exits at once).");
        writer.WriteLine();
        writer.WriteLine("Options:");
        writer.WriteLine("  --data DIR          root of the components' data, one subdirectory each");
        writer.WriteLine("                      (default: a new shoal-dev-* directory under the system temp");
        writer.WriteLine("                      directory, kept after exit)");
        writer.WriteLine($"  --agents N          number of agents, 0 to {DevCluster.MaxAgents} (default 3)");
        writer.WriteLine("  --address IP        address every component listens on (default 127.0.0.1)");
        writer.WriteLine("  --log-level LEVEL   trace, debug, information, warning or error (default information)");
        writer.WriteLine("  -h, --help          show this help");
        writer.WriteLine();
        writer.WriteLine("Exit codes: 0 stopped normally, 1 a port is in use or a component failed, 2 bad arguments.");
    }

    public static void WriteVersion(TextWriter writer)
    {
        writer.WriteLine("Usage: shoal version");
        writer.WriteLine();
        writer.WriteLine("Prints the version of shoal and of the .NET runtime it runs on.");
    }
}
