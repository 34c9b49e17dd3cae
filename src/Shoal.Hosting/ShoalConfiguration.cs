using Microsoft.Extensions.Configuration;

namespace Shoal.Hosting;

/// <summary>
/// Loads a component's configuration: a YAML file, then environment variables (<c>SHOAL_</c> prefix,
/// <c>__</c> for nesting, e.g. <c>SHOAL_ORIGIN__LISTEN__PORT</c>), then command-line overrides
/// (<c>--origin:listen:port=15002</c>); later sources win.
/// </summary>
public static class ShoalConfiguration
{
    /// <summary>The environment variable prefix.</summary>
    public const string EnvironmentPrefix = "SHOAL_";

    /// <summary>Builds the configuration; a missing or malformed file is a <see cref="ConfigurationException"/>.</summary>
    public static IConfigurationRoot Load(string? configFile, IEnumerable<string> overrides)
    {
        var builder = new ConfigurationBuilder();
        if (!string.IsNullOrEmpty(configFile))
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full))
            {
                throw new ConfigurationException($"config file '{configFile}' does not exist");
            }
            builder.AddYamlFile(full, optional: false, reloadOnChange: false);
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddCommandLine(overrides.ToArray());
        try
        {
            return builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or YamlDotNet.Core.YamlException)
        {
            throw new ConfigurationException($"config file '{configFile}' is not valid YAML: {ex.Message}", ex);
        }
    }

    /// <summary>Binds section <paramref name="section"/> onto a new <typeparamref name="T"/> and validates it.</summary>
    public static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"invalid configuration under '{section}': {ex.Message}", ex);
        }
        OptionsValidator.ValidateOrThrow(options, section);
        return options;
    }
}
