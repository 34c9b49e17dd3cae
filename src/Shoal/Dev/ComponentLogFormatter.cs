using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Shoal.Dev;

/// <summary>
/// One console line per log entry, prefixed with the component's name: in a dev cluster several
/// hosts of the same type (the agents) share one console, and their categories alone look alike.
/// </summary>
internal sealed class ComponentLogFormatter(IOptionsMonitor<ComponentLogFormatter.Options> options) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "shoal-component";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }
        var timestamp = DateTimeOffset.Now.ToString("HH:mm:ss.fff ", System.Globalization.CultureInfo.InvariantCulture);
        textWriter.Write($"{timestamp}{options.CurrentValue.Component,-11} {Level(logEntry.LogLevel)}: {logEntry.Category}[{logEntry.EventId.Id}] {message}");
        textWriter.Write(Environment.NewLine);
        if (logEntry.Exception is { } exception)
        {
            textWriter.Write(exception.ToString());
            textWriter.Write(Environment.NewLine);
        }
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };

    /// <summary>The component whose lines this formatter writes.</summary>
    internal sealed class Options : ConsoleFormatterOptions
    {
        public string Component { get; set; } = string.Empty;
    }
}
