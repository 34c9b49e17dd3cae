using Shoal.Cli;

namespace Shoal;

/// <summary>The <c>shoal</c> executable: one subcommand per component, and <c>dev</c>.</summary>
public static class Program
{
    /// <summary>Runs the command line; see <c>shoal --help</c>.</summary>
    public static Task<int> Main(string[] args) => ShoalCli.RunAsync(args, Console.Out, Console.Error);
}
