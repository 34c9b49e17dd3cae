using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>Runs the built <c>shoal</c> executable as a real child process (<c>dotnet shoal.dll ...</c>).</summary>
internal static class ShoalExecutable
{
    /// <summary>The built <c>shoal.dll</c>, copied beside the tests through the project reference.</summary>
    public static string Dll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "shoal.dll");
            Assert.True(File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")), $"shoal.dll (with its runtimeconfig) is not in {AppContext.BaseDirectory}");
            return dll;
        }
    }

    /// <summary>The <c>dotnet</c> host that runs the tests.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : ToolCheck.Find("dotnet") ?? "dotnet";

    /// <summary>Environment for the child: no SHOAL_ configuration leaks in from the test runner's environment.</summary>
    public static IReadOnlyDictionary<string, string?> ChildEnvironment(IReadOnlyDictionary<string, string?>? extra = null)
    {
        var environment = System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("SHOAL_", StringComparison.OrdinalIgnoreCase) && k != ToolCheck.OptionalVariable)
            .ToDictionary(k => k, _ => (string?)null);
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }
        return environment;
    }

    public static ExternalProcess Start(params string[] arguments) =>
        ExternalProcess.Start(DotnetHost, [Dll, .. arguments], ChildEnvironment());

    public static Task<ProcessResult> RunAsync(params string[] arguments) =>
        ExternalProcess.RunAsync(DotnetHost, [Dll, .. arguments], TimeSpan.FromSeconds(60), ChildEnvironment());
}
