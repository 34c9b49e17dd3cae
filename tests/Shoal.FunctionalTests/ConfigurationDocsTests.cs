using System.Text.RegularExpressions;
using Shoal.Hosting;

namespace Shoal.FunctionalTests;

/// <summary>docs/configuration.md stays true: every key a component accepts (as its <c>--help</c> lists them) is documented.</summary>
public sealed partial class ConfigurationDocsTests
{
    [Theory]
    [InlineData("P2P", "p2p")]
    [InlineData("ClientTls", "clientTls")]
    [InlineData("IOTimeout", "ioTimeout")]
    [InlineData("Listen", "listen")]
    [InlineData("dataDir", "dataDir")]
    [InlineData("", "")]
    public void CamelCase_LeadingCapitals_Lowercased(string name, string expected)
        => Assert.Equal(expected, ConfigurationNames.CamelCase(name));

    [Theory]
    [InlineData("origin")]
    [InlineData("tracker")]
    [InlineData("build-index")]
    [InlineData("proxy")]
    [InlineData("agent")]
    public async Task EveryConfigurationKey_IsDocumented(string component)
    {
        var help = await ShoalExecutable.RunAsync(component, "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        var keys = KeyLine().Matches(help.StandardOutput).Select(m => m.Groups["key"].Value).ToArray();
        Assert.True(keys.Length > 5, "no configuration keys found in the help text:\n" + help.StandardOutput);
        var docs = Normalize(await File.ReadAllTextAsync(FindDocs()));

        var undocumented = keys.Where(key => !IsDocumented(Normalize(key), docs)).ToArray();

        Assert.True(undocumented.Length == 0, "keys missing from docs/configuration.md:\n  " + string.Join("\n  ", undocumented));
    }

    /// <summary>
    /// Documented when some tail of the key with at least two components (<c>listen:port</c> in the
    /// shared <c>listen</c> table, or the full <c>origin:listen:port</c>) stands in backticks.
    /// </summary>
    private static bool IsDocumented(string key, string docs)
    {
        var parts = key.Split(':');
        for (var i = 0; i < parts.Length - 1; i++)
        {
            var tail = string.Join(':', parts[i..]);
            if (docs.Contains('`' + tail + '`', StringComparison.Ordinal) || docs.Contains('`' + tail + ':', StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>List positions and map keys (<c>:&lt;n&gt;</c>, <c>:&lt;name&gt;</c>) are placeholders, not names.</summary>
    private static string Normalize(string text) => Placeholder().Replace(text, "");

    private static string FindDocs()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "docs", "configuration.md");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException("docs/configuration.md not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^  (?<key>[a-zA-Z]+(?::[^\s]+)+)  \(", RegexOptions.Multiline)]
    private static partial Regex KeyLine();

    [GeneratedRegex(@":<[a-z]+>")]
    private static partial Regex Placeholder();
}
