namespace Shoal.TestKit;

/// <summary>
/// A private redis-server on a free loopback port, without persistence, its working directory
/// temporary. Stopped by PID on dispose (or on demand, to test what happens when Redis goes away).
/// </summary>
public sealed class RedisServer : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _directory;
    private ExternalProcess? _process;

    private RedisServer(TempDirectory directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string that reaches it.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Starts redis-server and waits (bounded) until its port accepts connections.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        ToolCheck.Require(ToolCheck.RedisServer);
        var directory = new TempDirectory("shoal-redis");
        // A port picked now may be taken before redis binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer(directory, FreePort.Next());
            try
            {
                await server.StartProcessAsync();
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                server.StopProcess();
            }
            catch
            {
                directory.Dispose();
                throw;
            }
        }
    }

    /// <summary>Stops the server (its data goes with it: nothing is persisted).</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            await process.StopAsync();
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Starts it again on the same port, empty.</summary>
    public Task RestartAsync() => _process is null ? StartProcessAsync() : throw new InvalidOperationException("redis-server is running");

    public void Dispose()
    {
        StopProcess();
        _directory.Dispose();
    }

    private async Task StartProcessAsync()
    {
        var program = ToolCheck.Require(ToolCheck.RedisServer);
        var process = ExternalProcess.Start(program,
            ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory.Path]);
        try
        {
            await process.WaitForTcpPortAsync("127.0.0.1", Port, StartTimeout);
        }
        catch
        {
            process.Dispose();
            throw;
        }
        _process = process;
    }

    private void StopProcess()
    {
        _process?.Dispose();
        _process = null;
    }
}
