using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace Shoal.TestKit;

/// <summary>
/// A real program started by a test: its output is captured, every wait is bounded, and dispose
/// stops it by PID (SIGTERM, then kill after a grace period) so no test leaves a process behind.
/// </summary>
public sealed partial class ExternalProcess : IDisposable
{
    private static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _combined = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private ExternalProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
    }

    /// <summary>The program and its arguments, for messages.</summary>
    public string CommandLine { get; }

    /// <summary>The operating system's process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The exit code, once exited.</summary>
    public int? ExitCode => HasExited ? _process.ExitCode : null;

    /// <summary>Standard output captured so far.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Standard error captured so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Both streams interleaved in arrival order, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _combined.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>; environment entries set to null are removed.</summary>
    public static ExternalProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                if (value is null)
                {
                    info.Environment.Remove(key);
                }
                else
                {
                    info.Environment[key] = value;
                }
            }
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var result = new ExternalProcess(process, fileName + " " + string.Join(' ', info.ArgumentList));
        process.OutputDataReceived += (_, e) => result.Append(e.Data, result._stdout, result._stdoutClosed);
        process.ErrorDataReceived += (_, e) => result.Append(e.Data, result._stderr, result._stderrClosed);
        process.Exited += (_, _) => result.OnExited();
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {result.CommandLine}");
        }
        process.StandardInput.Close(); // no program under test waits for input
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Runs a program to completion within <paramref name="timeout"/> and returns what it printed.</summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null)
    {
        using var process = Start(fileName, arguments, environment, workingDirectory);
        var exitCode = await process.WaitForExitAsync(timeout);
        return new ProcessResult(process.CommandLine, exitCode, process.StandardOutput, process.StandardError);
    }

    /// <summary>Waits for the process to exit; kills it and throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        if (await Task.WhenAny(_exited.Task, Task.Delay(timeout)) != _exited.Task)
        {
            Kill();
            throw new TimeoutException($"{CommandLine} did not exit within {timeout.TotalSeconds:0.#} s; output:\n{Output}");
        }
        await _exited.Task;
        return _process.ExitCode;
    }

    /// <summary>Waits until <paramref name="host"/>:<paramref name="port"/> accepts TCP connections.</summary>
    public Task WaitForTcpPortAsync(string host, int port, TimeSpan timeout) =>
        PollAsync($"TCP {host}:{port}", timeout, ct => FreePort.IsOpenAsync(host, port, ct));

    /// <summary>Waits until <paramref name="url"/> answers with a status <paramref name="accept"/> likes (default: 2xx).</summary>
    public async Task WaitForHttpAsync(Uri url, TimeSpan timeout, Func<HttpStatusCode, bool>? accept = null)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        await PollAsync($"HTTP {url}", timeout, async ct =>
        {
            try
            {
                using var response = await client.GetAsync(url, ct);
                return accept?.Invoke(response.StatusCode) ?? response.IsSuccessStatusCode;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                return false;
            }
        });
    }

    /// <summary>Waits until the captured output (either stream) contains <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) =>
        PollAsync($"output containing '{text}'", timeout, _ => Task.FromResult(Output.Contains(text, StringComparison.Ordinal)));

    /// <summary>Sends a POSIX signal (e.g. 15 for SIGTERM) to the process.</summary>
    public void Signal(int signal)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("signals are POSIX only");
        }
        if (!_process.HasExited && SysKill(_process.Id, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (!_process.HasExited)
            {
                throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed with errno {errno}");
            }
        }
    }

    /// <summary>SIGTERM, then SIGKILL (whole tree) if still running after <paramref name="grace"/>; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? grace = null)
    {
        if (!HasExited)
        {
            if (OperatingSystem.IsWindows())
            {
                Kill();
            }
            else
            {
                Signal(15);
            }
            if (await Task.WhenAny(_exited.Task, Task.Delay(grace ?? DefaultGrace)) != _exited.Task)
            {
                Kill();
            }
        }
        await _exited.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            StopAsync().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            Kill();
        }
        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private async Task PollAsync(string what, TimeSpan timeout, Func<CancellationToken, Task<bool>> condition)
    {
        using var cts = new CancellationTokenSource(timeout);
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"{CommandLine} exited with code {_process.ExitCode} while waiting for {what}; output:\n{Output}");
            }
            try
            {
                if (await condition(cts.Token))
                {
                    return;
                }
                await Task.Delay(delay, cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what} from {CommandLine}; output:\n{Output}");
            }
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
        }
    }

    private void Append(string? line, StringBuilder stream, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult(); // end of stream
            return;
        }
        lock (_gate)
        {
            stream.AppendLine(line);
            _combined.AppendLine(line);
        }
    }

    private void OnExited() => _ = CompleteAfterOutputAsync();

    private async Task CompleteAfterOutputAsync()
    {
        // Exited fires before the redirected streams are drained; wait for their end so the
        // captured output is complete (bounded: a grandchild may keep them open).
        try
        {
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }
        _exited.TrySetResult();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
