using System.Net;
using System.Net.Sockets;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>The <c>shoal</c> executable as a user runs it: help, configuration errors, a component, and <c>dev</c>.</summary>
[Trait("Category", "E2E")]
public sealed class CommandLineTests : IDisposable
{
    private const int SigTerm = 15;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _temp = new("shoal-cli");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Help_TopLevel_ListsEveryCommandAndExitsZero()
    {
        foreach (var form in new[] { "--help", "-h", "help" })
        {
            var result = await ShoalExecutable.RunAsync(form);
            Assert.True(result.ExitCode == 0, result.ToString());
            foreach (var command in new[] { "proxy", "origin", "tracker", "build-index", "agent", "dev", "preheat", "version" })
            {
                Assert.Contains(command, result.StandardOutput, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData("origin", "origin")]
    [InlineData("tracker", "tracker")]
    [InlineData("build-index", "buildIndex")]
    [InlineData("proxy", "proxy")]
    [InlineData("agent", "agent")]
    public async Task Help_Component_ListsItsConfigurationKeysAndExitsZero(string command, string section)
    {
        var result = await ShoalExecutable.RunAsync(command, "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Usage: shoal {command} ", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("--config FILE", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{section}:listen:port  (integer, default ", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"SHOAL_{section.ToUpperInvariant()}__", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardError);
    }

    [Fact]
    public async Task Preheat_HelpAndMissingImage_AreExplained()
    {
        foreach (var args in new[] { new[] { "preheat", "--help" }, new[] { "help", "preheat" } })
        {
            var help = await ShoalExecutable.RunAsync(args);
            Assert.True(help.ExitCode == 0, help.ToString());
            Assert.Contains("shoal preheat", help.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("--scope", help.StandardOutput, StringComparison.Ordinal);
        }

        var missing = await ShoalExecutable.RunAsync("preheat");
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.StartsWith("shoal: ", missing.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_DevAndVersion_ExitZero()
    {
        var dev = await ShoalExecutable.RunAsync("dev", "--help");
        Assert.True(dev.ExitCode == 0, dev.ToString());
        Assert.Contains("--agents N", dev.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("--data DIR", dev.StandardOutput, StringComparison.Ordinal);

        var version = await ShoalExecutable.RunAsync("version");
        Assert.True(version.ExitCode == 0, version.ToString());
        Assert.StartsWith("shoal ", version.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NoArgumentsOrUnknownCommand_ExitsTwoWithUsage()
    {
        var none = await ShoalExecutable.RunAsync();
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("Usage:", none.StandardError, StringComparison.Ordinal);

        var unknown = await ShoalExecutable.RunAsync("registry");
        Assert.Equal(2, unknown.ExitCode);
        Assert.StartsWith("shoal: unknown command 'registry'", unknown.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Component_OutOfRangeValue_ExitsTwoNamingTheKey()
    {
        var config = WriteConfig("origin:\n  dataDir: data\n  listen:\n    port: 99999\n");

        var result = await ShoalExecutable.RunAsync("origin", "--config", config);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("shoal: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("origin:listen:port", result.StandardError, StringComparison.Ordinal);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Component_UnknownKey_ExitsTwoNamingTheKey()
    {
        var config = WriteConfig("tracker:\n  origins: [\"http://127.0.0.1:15002\"]\n  annouceInterval: 5\n");

        var result = await ShoalExecutable.RunAsync("tracker", "--config", config);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("annouceInterval", result.StandardError, StringComparison.Ordinal);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Component_BadOverrideOrMissingFile_ExitsTwo()
    {
        var missingFile = await ShoalExecutable.RunAsync("proxy", "--config", _temp.Combine("absent.yaml"));
        Assert.Equal(2, missingFile.ExitCode);
        Assert.Contains("absent.yaml", missingFile.StandardError, StringComparison.Ordinal);

        var otherSection = await ShoalExecutable.RunAsync("proxy", "--origin:listen:port=1");
        Assert.Equal(2, otherSection.ExitCode);
        Assert.Contains("proxy:", otherSection.StandardError, StringComparison.Ordinal);

        var badValue = await ShoalExecutable.RunAsync("agent", "--agent:dataDir=x", "--agent:buildIndex=not a url", "--agent:origins:0=http://127.0.0.1:1");
        Assert.Equal(2, badValue.ExitCode);
        Assert.Contains("agent:buildIndex", badValue.StandardError, StringComparison.Ordinal);
        AssertNoStackTrace(badValue);
    }

    [Fact]
    public async Task Component_ValidConfig_ServesHealthAndStopsCleanlyOnSigterm()
    {
        var port = FreePort.Next();
        var config = WriteConfig($"buildIndex:\n  listen:\n    port: {port}\n  dataDir: {_temp.Combine("build-index")}\n");

        using var process = ShoalExecutable.Start("build-index", "--config", config);
        await process.WaitForHttpAsync(new Uri($"http://127.0.0.1:{port}/health"), StartTimeout);

        process.Signal(SigTerm);

        Assert.True(await process.WaitForExitAsync(StopTimeout) == 0, process.Output);
    }

    [Fact]
    public async Task Dev_RealProcess_ServesProxyAndAgentsThenStopsCleanlyOnSigterm()
    {
        // Another loopback address than 127.0.0.1, so a developer's own 'shoal dev' does not collide.
        var address = LoopbackAddress(7);
        using var process = ShoalExecutable.Start("dev", "--data", _temp.Combine("dev"), "--agents", "2", "--address", address, "--log-level", "warning");
        await process.WaitForOutputAsync("Press Ctrl+C to stop.", StartTimeout);

        Assert.Equal(200, await Registry.PingAsync(new Uri($"http://{address}:15000/")));
        Assert.Equal(200, await Registry.PingAsync(new Uri($"http://{address}:16000/")));
        Assert.Equal(200, await Registry.PingAsync(new Uri($"http://{address}:16010/")));
        Assert.Contains($"http://{address}:15004", process.StandardOutput, StringComparison.Ordinal);
        Assert.True(Directory.Exists(_temp.Combine("dev", "origin")));

        process.Signal(SigTerm);

        Assert.True(await process.WaitForExitAsync(StopTimeout) == 0, process.Output);
        Assert.Contains("stopped", process.StandardOutput, StringComparison.Ordinal);
        Assert.False(await FreePort.IsOpenAsync(address, 15000));
    }

    [Fact]
    public async Task Dev_PortInUse_ExitsOneNamingTheComponent()
    {
        var address = LoopbackAddress(8);
        using var squatter = new TcpListener(IPAddress.Parse(address), 15002);
        squatter.Start();

        var result = await ShoalExecutable.RunAsync("dev", "--data", _temp.Combine("dev"), "--agents", "1", "--address", address);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("origin", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("15002", result.StandardError, StringComparison.Ordinal);
        AssertNoStackTrace(result);
        // The build-index had started before the origin failed; it must have been stopped again.
        Assert.False(await FreePort.IsOpenAsync(address, 15004));
    }

    private string WriteConfig(string yaml)
    {
        var path = _temp.Combine($"config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static void AssertNoStackTrace(ProcessResult result)
    {
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>127.0.0.N: Linux routes all of 127/8 to the loopback interface.</summary>
    private static string LoopbackAddress(int n) => $"127.0.{Environment.ProcessId % 200}.{n}";
}
