using System.Net.Sockets;
using System.Reflection;
using Microsoft.Extensions.Hosting;
using Shoal.Hosting;

namespace Shoal.Cli;

/// <summary>
/// The command line of <c>shoal</c>: picks the subcommand, turns every expected failure into a
/// one-line <c>shoal: message</c> on standard error and an exit code (never a stack trace).
/// </summary>
internal static class ShoalCli
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            Usage.WriteMain(stderr);
            return ExitCodes.Usage;
        }
        var command = args[0];
        var rest = args[1..];
        try
        {
            switch (command)
            {
                case "-h" or "--help":
                    Usage.WriteMain(stdout);
                    return ExitCodes.Success;
                case "help":
                    return Help(rest, stdout);
                case "version" or "--version":
                    if (rest.Any(IsHelp))
                    {
                        Usage.WriteVersion(stdout);
                        return ExitCodes.Success;
                    }
                    RejectExtra(rest, "version");
                    stdout.WriteLine($"shoal {Version()} (.NET {Environment.Version})");
                    return ExitCodes.Success;
                case "dev":
                    return await DevCommand.RunAsync(rest, stdout, stderr);
                case "preheat":
                    return await PreheatCommand.RunAsync(rest, stdout, stderr);
                default:
                    var component = ComponentCommand.Find(command)
                        ?? throw new UsageException($"unknown command '{command}' (commands: {string.Join(", ", ComponentCommand.All.Select(c => c.Name))}, dev, preheat, version, help)");
                    return await RunComponentAsync(component, rest, stdout);
            }
        }
        catch (UsageException ex)
        {
            stderr.WriteLine($"shoal: {ex.Message}");
            stderr.WriteLine(command is "dev" or "preheat" || ComponentCommand.Find(command) is not null
                ? $"Run 'shoal {command} --help' for usage."
                : "Run 'shoal --help' for usage.");
            return ExitCodes.Usage;
        }
        catch (ConfigurationException ex)
        {
            stderr.WriteLine($"shoal: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or TimeoutException)
        {
            stderr.WriteLine($"shoal: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (SocketException ex)
        {
            // E.g. a peer-to-peer listener whose port is taken (Kestrel's own bind failures are IOExceptions).
            stderr.WriteLine($"shoal: {command}: {ex.Message}; check the configured listen addresses and ports");
            return ExitCodes.Failure;
        }
        catch (Exception ex)
        {
            stderr.WriteLine($"shoal: {command} failed: {Describe(ex)}");
            return ExitCodes.Failure;
        }
    }

    private static async Task<int> RunComponentAsync(ComponentCommand component, string[] args, TextWriter stdout)
    {
        string? configFile = null;
        var overrides = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (IsHelp(arg))
            {
                Usage.WriteComponent(stdout, component);
                return ExitCodes.Success;
            }
            if (arg is "-c" or "--config")
            {
                configFile = i + 1 < args.Length ? args[++i] : throw new UsageException($"{arg} needs a file name");
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                configFile = arg["--config=".Length..];
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains(':', StringComparison.Ordinal))
            {
                var equals = arg.IndexOf('=', StringComparison.Ordinal);
                var key = equals < 0 ? arg[2..] : arg[2..equals];
                if (!key.StartsWith(component.Section + ":", StringComparison.OrdinalIgnoreCase))
                {
                    throw new UsageException($"'{arg}': 'shoal {component.Name}' reads only keys under '{component.Section}:', e.g. --{component.Section}:listen:port=8080");
                }
                if (equals < 0)
                {
                    var value = i + 1 < args.Length ? args[++i] : throw new UsageException($"{arg} needs a value (--{key}=<value>)");
                    overrides.Add($"--{key}={value}");
                }
                else
                {
                    overrides.Add(arg);
                }
            }
            else
            {
                throw new UsageException($"unknown option '{arg}'");
            }
        }
        if (configFile is { Length: 0 })
        {
            throw new UsageException("--config needs a file name");
        }
        var configuration = ShoalConfiguration.Load(configFile, overrides);
        await using var app = component.Build(configuration);
        await app.StartOrStopAsync(CancellationToken.None);
        // The console lifetime turns Ctrl+C and SIGTERM into a graceful stop.
        await ((IHost)app).WaitForShutdownAsync();
        return ExitCodes.Success;
    }

    private static int Help(string[] args, TextWriter stdout)
    {
        if (args.Length == 0)
        {
            Usage.WriteMain(stdout);
            return ExitCodes.Success;
        }
        RejectExtra(args[1..], "help");
        switch (args[0])
        {
            case "dev":
                Usage.WriteDev(stdout);
                break;
            case "version":
                Usage.WriteVersion(stdout);
                break;
            case "preheat":
                PreheatCommand.WriteUsage(stdout);
                break;
            default:
                var component = ComponentCommand.Find(args[0]) ?? throw new UsageException($"no help for unknown command '{args[0]}'");
                Usage.WriteComponent(stdout, component);
                break;
        }
        return ExitCodes.Success;
    }

    internal static bool IsHelp(string arg) => arg is "-h" or "--help" or "-?";

    private static void RejectExtra(string[] args, string command)
    {
        if (args.Length > 0)
        {
            throw new UsageException($"'{command}' takes no argument '{args[0]}'");
        }
    }

    private static string Version()
    {
        var assembly = typeof(ShoalCli).Assembly;
        return assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "unknown";
    }

    private static string Describe(Exception ex)
    {
        var messages = new List<string>();
        for (var current = ex; current is not null && messages.Count < 4; current = current.InnerException)
        {
            messages.Add($"{current.GetType().Name}: {current.Message}");
        }
        return string.Join(" ← ", messages);
    }
}
