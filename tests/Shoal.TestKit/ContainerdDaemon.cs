namespace Shoal.TestKit;

/// <summary>
/// A private containerd (1.6+, run as root) with its own root, state, socket and plugin
/// directories under a temporary directory, so it neither touches nor depends on a system
/// containerd. Only what image pulls need is loaded (no CRI); images unpack with the
/// <c>native</c> snapshotter, which needs no overlay mounts. Stopped by PID on dispose.
/// </summary>
public sealed class ContainerdDaemon : IDisposable
{
    /// <summary>The snapshotter every pull should use.</summary>
    public const string Snapshotter = "native";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private readonly TempDirectory _directory;
    private readonly ExternalProcess _process;
    private readonly string _ctr;

    private ContainerdDaemon(TempDirectory directory, ExternalProcess process, string ctr)
    {
        _directory = directory;
        _process = process;
        _ctr = ctr;
    }

    /// <summary>The gRPC socket to pass to <c>ctr --address</c>.</summary>
    public string Socket => _directory.Combine("containerd.sock");

    /// <summary>Directory of <c>hosts.toml</c> files (<c>HOSTS_DIR/&lt;host:port&gt;/hosts.toml</c>) for <c>ctr --hosts-dir</c>.</summary>
    public string HostsDirectory => _directory.Combine("certs.d");

    /// <summary>containerd's log so far, for failure messages.</summary>
    public string Log => _process.Output;

    /// <summary>Starts containerd and waits (bounded) until <c>ctr version</c> answers.</summary>
    public static async Task<ContainerdDaemon> StartAsync()
    {
        var containerd = ToolCheck.Require("containerd");
        var ctr = ToolCheck.Require("ctr");
        ToolCheck.Require(ToolCheck.Root);
        // Unix socket paths are limited to 108 bytes: keep the directory name short.
        var directory = new TempDirectory("shoal-ctd");
        try
        {
            Directory.CreateDirectory(directory.Combine("certs.d"));
            var config = directory.Combine("config.toml");
            await File.WriteAllTextAsync(config, $"""
                version = 2
                root = "{directory.Combine("root")}"
                state = "{directory.Combine("state")}"
                disabled_plugins = [
                  "io.containerd.grpc.v1.cri",
                  "io.containerd.snapshotter.v1.aufs",
                  "io.containerd.snapshotter.v1.btrfs",
                  "io.containerd.snapshotter.v1.devmapper",
                  "io.containerd.snapshotter.v1.zfs",
                ]

                [grpc]
                  address = "{directory.Combine("containerd.sock")}"

                [ttrpc]
                  address = "{directory.Combine("containerd.sock.ttrpc")}"

                [debug]
                  level = "info"

                [plugins."io.containerd.internal.v1.opt"]
                  path = "{directory.Combine("opt")}"
                """);
            var process = ExternalProcess.Start(containerd, ["--config", config]);
            var daemon = new ContainerdDaemon(directory, process, ctr);
            try
            {
                await daemon.WaitUntilServingAsync();
            }
            catch
            {
                daemon.Dispose();
                throw;
            }
            return daemon;
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <c>hosts.toml</c> for registry <paramref name="serverHostPort"/>: its <c>server</c> is
    /// <paramref name="serverUrl"/> and every mirror in <paramref name="mirrorUrls"/> may pull and resolve.
    /// </summary>
    public void ConfigureMirror(string serverHostPort, string serverUrl, params string[] mirrorUrls)
    {
        var directory = Path.Combine(HostsDirectory, serverHostPort);
        Directory.CreateDirectory(directory);
        var hosts = $"server = \"{serverUrl}\"\n" + string.Concat(mirrorUrls.Select(url => $"\n[host.\"{url}\"]\n  capabilities = [\"pull\", \"resolve\"]\n"));
        File.WriteAllText(Path.Combine(directory, "hosts.toml"), hosts);
    }

    /// <summary>Runs <c>ctr --address SOCKET ARGS</c> and returns its output (throws unless it exits 0).</summary>
    public async Task<ProcessResult> CtrAsync(params string[] arguments)
    {
        var result = await ExternalProcess.RunAsync(_ctr, ["--address", Socket, .. arguments], CommandTimeout);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{result}\ncontainerd log (tail):\n{Tail(Log, 40)}");
        }
        return result;
    }

    /// <summary><c>ctr images pull</c> through the hosts directory over plain HTTP, unpacking with <see cref="Snapshotter"/>.</summary>
    public Task<ProcessResult> PullAsync(string reference, params string[] extra) =>
        CtrAsync(["images", "pull", "--hosts-dir", HostsDirectory, "--plain-http", "--snapshotter", Snapshotter, .. extra, reference]);

    /// <summary>The file in containerd's content store holding blob <paramref name="digest"/>, or null when absent.</summary>
    public string? ContentPath(string digest)
    {
        var path = _directory.Combine("root", "io.containerd.content.v1.content", "blobs", "sha256", digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..]);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Digests of every blob in containerd's content store.</summary>
    public IReadOnlyList<string> ContentDigests()
    {
        var directory = _directory.Combine("root", "io.containerd.content.v1.content", "blobs", "sha256");
        return Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory).Select(f => "sha256:" + Path.GetFileName(f)).ToList()
            : [];
    }

    public void Dispose()
    {
        _process.Dispose();
        _directory.Dispose();
    }

    private async Task WaitUntilServingAsync()
    {
        using var deadline = new CancellationTokenSource(StartTimeout);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"containerd exited with code {_process.ExitCode}:\n{Tail(Log, 40)}");
            }
            if (File.Exists(Socket))
            {
                var version = await ExternalProcess.RunAsync(_ctr, ["--address", Socket, "version"], TimeSpan.FromSeconds(10));
                if (version.ExitCode == 0)
                {
                    return;
                }
            }
            try
            {
                await Task.Delay(100, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"containerd did not serve {Socket} within {StartTimeout.TotalSeconds} s:\n{Tail(Log, 40)}");
            }
        }
    }

    private static string Tail(string text, int lines) =>
        string.Join('\n', text.Split('\n').TakeLast(lines));
}
