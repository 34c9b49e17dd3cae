namespace Shoal.Cli;

/// <summary>The process exit codes of <c>shoal</c>.</summary>
internal static class ExitCodes
{
    /// <summary>Ran and stopped normally (also: help printed).</summary>
    public const int Success = 0;

    /// <summary>Failed while running, e.g. a port is already in use.</summary>
    public const int Failure = 1;

    /// <summary>Bad command line or configuration; nothing was started.</summary>
    public const int Usage = 2;
}
