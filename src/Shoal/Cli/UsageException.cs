namespace Shoal.Cli;

/// <summary>A command line that cannot be understood; the message says what to fix.</summary>
internal sealed class UsageException(string message) : Exception(message);
