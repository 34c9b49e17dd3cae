namespace Shoal.TestKit;

/// <summary>What a program run to completion printed, and how it ended.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Throws with the full output unless the exit code is 0.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"{CommandLine} exited with code {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }
        return this;
    }

    public override string ToString() => $"{CommandLine} → {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
}
