using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Agent;
using Shoal.BuildIndex;
using Shoal.Hosting;
using Shoal.Internal;
using Shoal.Origin;
using Shoal.P2P;
using Shoal.P2P.Engine;
using Shoal.Proxy;
using Shoal.Storage;
using Shoal.Tracker;

namespace Shoal.Dev;

/// <summary>
/// A whole Shoal cluster in one process — build-index, origin, tracker, proxy and agents on one
/// address, wired to each other, with a directory as the origin's storage backend — for trying Shoal out (<c>shoal dev</c>)
/// and for functional tests (<see cref="DevClusterOptions.UsePortZero"/>).
/// </summary>
public sealed class DevCluster : IAsyncDisposable
{
    /// <summary>The proxy's dev port.</summary>
    public const int ProxyPort = 15000;

    /// <summary>The origin's dev port.</summary>
    public const int OriginPort = 15002;

    /// <summary>The tracker's dev port.</summary>
    public const int TrackerPort = 15003;

    /// <summary>The build-index's dev port.</summary>
    public const int BuildIndexPort = 15004;

    /// <summary>The origin's peer-to-peer (seeding) port.</summary>
    public const int OriginPeerPort = OriginOptions.DefaultP2PPort;

    /// <summary>Agent <i>i</i> listens on <c>AgentBasePort + AgentPortStep·i</c>, and for peers on the next port.</summary>
    public const int AgentBasePort = 16000;

    /// <summary>Port distance between consecutive agents (room for each agent's other ports).</summary>
    public const int AgentPortStep = 10;

    /// <summary>Most agents one dev cluster runs.</summary>
    public const int MaxAgents = 50;

    private readonly List<DevComponent> _components;
    private int _stopped;

    private DevCluster(string dataDir, List<DevComponent> components)
    {
        DataDir = dataDir;
        _components = components;
        Agents = components.Where(c => c.Name.StartsWith("agent-", StringComparison.Ordinal)).ToList();
    }

    /// <summary>The root of every component's data directory.</summary>
    public string DataDir { get; }

    /// <summary>The origin's storage backend (a local directory standing in for reliable storage).</summary>
    public string StorageDir => StoragePath(DataDir);

    /// <summary>Every component, in start order (build-index, origin, tracker, proxy, agents).</summary>
    public IReadOnlyList<DevComponent> Components => _components;

    /// <summary>The registry endpoint clients push to.</summary>
    public DevComponent Proxy => Get("proxy");

    /// <summary>The (single) origin.</summary>
    public DevComponent Origin => Get("origin");

    /// <summary>The tracker.</summary>
    public DevComponent Tracker => Get("tracker");

    /// <summary>The build-index.</summary>
    public DevComponent BuildIndex => Get("build-index");

    /// <summary>The agents, <c>agent-0</c> first.</summary>
    public IReadOnlyList<DevComponent> Agents { get; }

    /// <summary>
    /// Starts every component in dependency order, each reading the real URLs of those started
    /// before it, and waits until all answer <c>/readiness</c>. Throws <see cref="IOException"/>
    /// naming the component when a port is taken; whatever had started is stopped again.
    /// </summary>
    public static async Task<DevCluster> StartAsync(DevClusterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.AgentCount is < 0 or > MaxAgents)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.AgentCount, $"the agent count must be between 0 and {MaxAgents}");
        }
        if (!IPAddress.TryParse(options.Address, out _))
        {
            throw new ArgumentException($"'{options.Address}' is not an IP address", nameof(options));
        }
        var root = options.DataDir is null
            ? Directory.CreateTempSubdirectory("shoal-dev-").FullName
            : Path.GetFullPath(options.DataDir);
        Directory.CreateDirectory(root);

        var started = new List<DevComponent>();
        try
        {
            var buildIndex = await StartComponentAsync("build-index", BuildIndexPort, devPeerPort: null, root, options, started, (listen, _, data, configure) =>
                BuildIndexServer.Build(new BuildIndexOptions
                {
                    Listen = listen,
                    DataDir = data!,
                    Backends = options.Backend is { } shared ? [new BackendRouteOptions { Namespace = ".*", Backend = shared }] : [],
                }, configure), cancellationToken);

            var origin = await StartComponentAsync("origin", OriginPort, OriginPeerPort, root, options, started, (listen, peers, data, configure) =>
                OriginServer.Build(new OriginOptions
                {
                    Listen = listen,
                    DataDir = data!,
                    Backend = options.Backend ?? new BackendOptions { Type = BackendOptions.FileSystem, Root = StoragePath(root) },
                    P2P = peers,
                }, configure), cancellationToken);
            var origins = new List<string> { Url(origin) };

            var tracker = await StartComponentAsync("tracker", TrackerPort, devPeerPort: null, dataRoot: null, options, started, (listen, _, _, configure) =>
                TrackerServer.Build(new TrackerOptions { Listen = listen, Origins = [.. origins] }, configure), cancellationToken);

            await StartComponentAsync("proxy", ProxyPort, devPeerPort: null, root, options, started, (listen, _, data, configure) =>
                ProxyServer.Build(new ProxyOptions { Listen = listen, DataDir = data!, Origins = [.. origins], BuildIndex = Url(buildIndex) }, configure), cancellationToken);

            for (var i = 0; i < options.AgentCount; i++)
            {
                var port = AgentBasePort + (AgentPortStep * i);
                await StartComponentAsync($"agent-{i}", port, port + 1, root, options, started, (listen, peers, data, configure) =>
                    AgentServer.Build(new AgentOptions
                    {
                        Listen = listen,
                        DataDir = data!,
                        Origins = [.. origins],
                        BuildIndex = Url(buildIndex),
                        Tracker = Url(tracker),
                        P2P = peers!,
                    }, configure), cancellationToken);
            }

            var cluster = new DevCluster(root, started);
            await cluster.WaitUntilReadyAsync(options.ReadinessTimeout, cancellationToken);
            return cluster;
        }
        catch
        {
            try
            {
                await StopComponentsAsync(started);
            }
            catch (AggregateException)
            {
                // The start failure is the one worth reporting.
            }
            throw;
        }
    }

    /// <summary>Stops every component (agents first, build-index last). Safe to call more than once.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await StopComponentsAsync(_components);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync();

    private DevComponent Get(string name) => _components.Single(c => c.Name == name);

    private static string StoragePath(string root) => Path.Combine(root, "storage");

    private static string Url(DevComponent component) => component.Url.AbsoluteUri.TrimEnd('/');

    private static async Task<DevComponent> StartComponentAsync(
        string name,
        int devPort,
        int? devPeerPort,
        string? dataRoot,
        DevClusterOptions options,
        List<DevComponent> started,
        Func<ListenOptions, P2POptions?, string?, Action<WebApplicationBuilder>, WebApplication> build,
        CancellationToken cancellationToken)
    {
        var listen = new ListenOptions { Address = options.Address, Port = options.UsePortZero ? 0 : devPort };
        var peers = devPeerPort is { } peerPort
            ? new P2POptions { Listen = new P2PListenOptions { Address = options.Address, Port = options.UsePortZero ? 0 : peerPort } }
            : null;
        var dataDir = dataRoot is null ? null : Directory.CreateDirectory(Path.Combine(dataRoot, name)).FullName;
        var app = build(listen, peers, dataDir, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddConsole(console => console.FormatterName = ComponentLogFormatter.FormatterName);
            builder.Logging.AddConsoleFormatter<ComponentLogFormatter, ComponentLogFormatter.Options>(format => format.Component = name);
            builder.Logging.SetMinimumLevel(options.LogLevel);
            HostLogging.Quiet(builder);
            // The process owns signals (shoal dev stops every component in order); no host may react on its own.
            builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
            options.ConfigureComponent?.Invoke(name, builder);
        });
        try
        {
            await app.StartOrStopAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync();
            throw new IOException($"{name}: {ex.Message}", ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            // Kestrel reports its own bind failures as IOException; this is the peer-to-peer listener.
            await app.DisposeAsync();
            throw new IOException($"{name}: failed to bind its peer-to-peer listener to {options.Address}:{peers?.Listen.Port}: address already in use.", ex);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var component = new DevComponent(name, app, app.BaseAddress(), dataDir, app.Services.GetService<PeerEngine>()?.LocalEndPoint);
        started.Add(component);
        return component;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = HttpClients.Create(connectTimeout: TimeSpan.FromSeconds(2));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        foreach (var component in _components)
        {
            var readiness = new Uri(component.Url, "readiness");
            string? lastProblem = null;
            var delay = TimeSpan.FromMilliseconds(20);
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync(readiness, deadline.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }
                    lastProblem = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(deadline.Token)}";
                    await Task.Delay(delay, deadline.Token);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"{component.Name} at {component.Url} was not ready within {timeout.TotalSeconds:0.#} s (last answer: {lastProblem ?? "none"})");
                }
                catch (HttpRequestException ex)
                {
                    lastProblem = ex.Message;
                    await Task.Delay(delay, deadline.Token);
                }
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
            }
        }
    }

    private static async Task StopComponentsAsync(List<DevComponent> components)
    {
        List<Exception>? errors = null;
        for (var i = components.Count - 1; i >= 0; i--)
        {
            var app = components[i].App;
            try
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }
            catch (Exception ex)
            {
                // Keep stopping the others; report every failure at the end.
                (errors ??= []).Add(ex);
            }
        }
        if (errors is not null)
        {
            throw new AggregateException("some components did not stop cleanly", errors);
        }
    }
}
