using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Shoal.Core.Blobs;
using Shoal.P2P.Bandwidth;
using Shoal.P2P.Protocol;
using Shoal.P2P.Storage;

namespace Shoal.P2P.Engine;

/// <summary>
/// The peer-to-peer engine of one agent or origin: a TCP listener, one <see cref="Swarm"/> (an event
/// loop) per blob being downloaded or seeded, and what they share — the global connection budget,
/// upload slots and the ingress and egress bandwidth limits.
/// </summary>
public sealed partial class PeerEngine : IAsyncDisposable
{
    private readonly PeerEngineSetup _setup;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Task<Swarm>> _swarms = new(StringComparer.Ordinal);
    private readonly List<Task> _loops = [];
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private int _connections;

    /// <summary>An engine with <paramref name="options"/> (validated by the host); call <see cref="Start"/> to listen.</summary>
    public PeerEngine(P2POptions options, PeerEngineSetup setup)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(setup);
        Options = options;
        _setup = setup;
        Time = setup.TimeProvider ?? TimeProvider.System;
        Logger = (setup.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Shoal.P2P.Engine");
        Transport = new PeerTransport(options.Tls, Logger, Stats);
        Ingress = TokenBucket.Create(options.IngressLimit, 0, Time);
        Egress = TokenBucket.Create(options.EgressLimit, 0, Time);
        DiskWatch = new DiskWatch(Time);
        UploadSlots = new SemaphoreSlim(options.UploadSlots, options.UploadSlots);
        PeerId = PeerId.NewRandom();
        if (setup.MeterFactory is { } meters)
        {
            EngineMetrics.Register(this, meters);
        }
    }

    /// <summary>This peer's id (random per process).</summary>
    public PeerId PeerId { get; }

    /// <summary>Where the listener is bound (after <see cref="Start"/>; the real port when 0 was configured).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Counters.</summary>
    public EngineStats Stats { get; } = new();

    /// <summary>Open swarms (downloading or seeding).</summary>
    public int SwarmCount
    {
        get
        {
            lock (_lock)
            {
                return _swarms.Count;
            }
        }
    }

    /// <summary>Open peer connections.</summary>
    public int ConnectionCount => Volatile.Read(ref _connections);

    internal P2POptions Options { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    /// <summary>Plaintext or TLS under every connection.</summary>
    internal PeerTransport Transport { get; }

    internal TokenBucket Ingress { get; }

    internal TokenBucket Egress { get; }

    /// <summary>Whether connections may touch blob files on the socket event thread right now.</summary>
    internal DiskWatch DiskWatch { get; }

    internal SemaphoreSlim UploadSlots { get; }

    internal bool IsOrigin => _setup.IsOrigin;

    internal IAnnouncer? Announcer => _setup.Announcer;

    internal int AdvertisedPort => LocalEndPoint?.Port ?? Options.Listen.Port;

    /// <summary>Binds the listener and starts accepting peers.</summary>
    public void Start()
    {
        if (_listener is not null)
        {
            return;
        }
        var address = IPAddress.Parse(Options.Listen.Address);
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }
            listener.Bind(new IPEndPoint(address, Options.Listen.Port));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        Log.Listening(Logger, LocalEndPoint.ToString(), PeerId.ToString());
        _acceptLoop = AcceptLoopAsync(listener, _stopping.Token);
    }

    /// <summary>
    /// The download of <paramref name="info"/>'s blob: joins the one in progress, or starts one
    /// (resuming the pieces a previous process verified). Requires a store and a partial store.
    /// </summary>
    public async Task<BlobDownload> DownloadAsync(MetaInfo info, string? @namespace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (_setup.Store is null || _setup.Partials is null)
        {
            throw new InvalidOperationException("this engine has no store to download into");
        }
        while (true)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            Task<Swarm> task;
            lock (_lock)
            {
                if (!_swarms.TryGetValue(info.InfoHash, out task!))
                {
                    task = StartSwarmAsync(info, @namespace);
                    _swarms[info.InfoHash] = task;
                }
            }
            var swarm = await task.WaitAsync(cancellationToken);
            if (swarm.Download is { } download)
            {
                return download;
            }
            // A seed swarm of a blob we hold: it is complete already; wait for it to go and start afresh
            // only if the caller still asks (the store normally answers before we get here).
            throw new InvalidOperationException($"{info.Digest} is already complete here");
        }
    }

    private async Task<Swarm> StartSwarmAsync(MetaInfo info, string? @namespace)
    {
        try
        {
            var file = await _setup.Partials!.OpenAsync(info, _stopping.Token);
            if (file.VerifiedCount > 0)
            {
                Log.Resumed(Logger, info.Digest, file.VerifiedCount, info.PieceCount);
            }
            return Launch(new Swarm(this, info, @namespace, file, _setup.Partials, _setup.Store));
        }
        catch
        {
            lock (_lock)
            {
                _swarms.Remove(info.InfoHash);
            }
            throw;
        }
    }

    private Swarm Launch(Swarm swarm)
    {
        var loop = Task.Run(() => swarm.RunAsync(_stopping.Token));
        lock (_lock)
        {
            _loops.RemoveAll(t => t.IsCompleted);
            _loops.Add(loop);
        }
        return swarm;
    }

    /// <summary>The open swarm of the blob with this info hash, once started (null otherwise).</summary>
    internal Swarm? SwarmFor(string infoHash)
    {
        lock (_lock)
        {
            return _swarms.TryGetValue(infoHash, out var task) && task.IsCompletedSuccessfully ? task.Result : null;
        }
    }

    /// <summary>
    /// The blob <paramref name="digest"/> left the store (evicted): its complete swarm stops seeding
    /// and is forgotten at once, so the next <see cref="DownloadAsync"/> starts a fresh download
    /// instead of joining one whose result is gone. Swarms still downloading are left alone.
    /// </summary>
    public void Forget(Core.Digest digest)
    {
        List<Swarm> forgotten = [];
        lock (_lock)
        {
            foreach (var (infoHash, task) in _swarms.ToArray())
            {
                if (task.IsCompletedSuccessfully && task.Result is { } swarm && swarm.Info.Digest == digest && swarm.File.IsComplete)
                {
                    _swarms.Remove(infoHash);
                    forgotten.Add(swarm);
                }
            }
        }
        foreach (var swarm in forgotten)
        {
            swarm.Post(SwarmEvent.Forgotten.Instance);
        }
    }

    internal void Remove(Swarm swarm)
    {
        lock (_lock)
        {
            if (_swarms.TryGetValue(swarm.Info.InfoHash, out var task) && task.IsCompletedSuccessfully && ReferenceEquals(task.Result, swarm))
            {
                _swarms.Remove(swarm.Info.InfoHash);
            }
        }
    }

    internal bool TryReserveConnection()
    {
        while (true)
        {
            var current = Volatile.Read(ref _connections);
            if (current >= Options.MaxConnections)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _connections, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    internal void ReleaseConnection() => Interlocked.Decrement(ref _connections);

    /// <summary>
    /// Refuses an accepted connection that holds a slot of the connection budget: Error, then a
    /// graceful close, and the slot is free once the socket is closed.
    /// </summary>
    internal void Reject(Socket socket, PeerConnection connection, PeerErrorCode code, string reason)
        => Reject(socket, connection, code, reason, reserved: true);

    private void Reject(Socket socket, PeerConnection connection, PeerErrorCode code, string reason, bool reserved)
        => _ = RejectAsync(socket, connection, code, reason, reserved);

    private async Task RejectAsync(Socket socket, PeerConnection connection, PeerErrorCode code, string reason, bool reserved)
    {
        var written = false;
        try
        {
            using var timeout = new CancellationTokenSource(PeerSockets.CloseGrace);
            await connection.WriteAsync(new ErrorMessage(code, reason), timeout.Token);
            written = true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        if (written)
        {
            await PeerSockets.CloseGracefullyAsync(socket);
        }
        else
        {
            socket.Dispose();
        }
        await connection.DisposeAsync();
        if (reserved)
        {
            ReleaseConnection();
        }
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                Log.AcceptFailed(Logger, ex.Message);
                continue;
            }
            PeerSockets.Configure(socket);
            _ = HandshakeAsync(socket, cancellationToken);
        }
    }

    /// <summary>
    /// Sets up an accepted connection's transport (TLS or plaintext, see <see cref="PeerTransport"/>),
    /// reads its handshake and hands it to its swarm (opening a seed swarm for a blob we hold).
    /// </summary>
    private async Task HandshakeAsync(Socket socket, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Options.HandshakeTimeout);
        PeerTransport.Accepted accepted;
        try
        {
            accepted = await Transport.AcceptAsync(socket, deadline.Token);
        }
        catch (Exception ex)
        {
            if (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.TlsFailed(Logger, RemoteOf(socket), ex is OperationCanceledException ? "no handshake within p2p:handshakeTimeout" : ex.Message);
            }
            socket.Dispose();
            return;
        }
        var connection = new PeerConnection(accepted.Stream);
        if (!accepted.Encrypted)
        {
            PeerSockets.WakeOnWholeMessages(socket, connection);
        }
        if (accepted.Refused)
        {
            Log.PlaintextRefused(Logger, RemoteOf(socket));
            Reject(socket, connection, PeerErrorCode.Forbidden, "this peer accepts TLS connections only (p2p:tls:mode strict)", reserved: false);
            return;
        }
        if (!TryReserveConnection())
        {
            Reject(socket, connection, PeerErrorCode.Busy, "no connection slot free", reserved: false);
            return;
        }
        try
        {
            if (await connection.ReadMessageAsync(deadline.Token) is not { Type: MessageType.Handshake } hello)
            {
                ReleaseConnection();
                socket.Dispose();
                await connection.DisposeAsync();
                return;
            }
            var handshake = hello.Handshake;
            var swarm = await FindSwarmAsync(handshake, deadline.Token);
            if (swarm is null)
            {
                Reject(socket, connection, PeerErrorCode.UnknownSwarm, "this peer does not serve that blob");
                return;
            }
            if (!swarm.TryPost(new SwarmEvent.Incoming(socket, connection, handshake)))
            {
                Reject(socket, connection, PeerErrorCode.Shutdown, "going away");
            }
        }
        catch (Exception ex)
        {
            var code = ex is ProtocolException protocol ? protocol.Code : PeerErrorCode.Timeout;
            Reject(socket, connection, code, ex.Message);
        }
    }

    private static string RemoteOf(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint?.ToString() ?? "?";
        }
        catch (ObjectDisposedException)
        {
            return "?";
        }
    }

    private async Task<Swarm?> FindSwarmAsync(HandshakeMessage handshake, CancellationToken cancellationToken)
    {
        Task<Swarm>? task;
        lock (_lock)
        {
            _swarms.TryGetValue(handshake.InfoHash, out task);
        }
        if (task is not null)
        {
            try
            {
                return await task.WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return null;
            }
        }
        if (_setup.Seeds is null)
        {
            return null;
        }
        var seed = await _setup.Seeds.FindAsync(handshake.Digest, handshake.Namespace, cancellationToken);
        if (seed is null)
        {
            return null;
        }
        if (!string.Equals(seed.MetaInfo.InfoHash, handshake.InfoHash, StringComparison.Ordinal))
        {
            await seed.File.DisposeAsync();
            throw new ProtocolException(PeerErrorCode.SwarmMismatch, "our metainfo for that digest has another info hash");
        }
        lock (_lock)
        {
            if (_swarms.TryGetValue(handshake.InfoHash, out task))
            {
                seed.File.Dispose();
            }
            else
            {
                var swarm = new Swarm(this, seed.MetaInfo, handshake.Namespace, BlobFile.OpenComplete(seed.MetaInfo, seed.File), null, null);
                task = Task.FromResult(swarm);
                _swarms[handshake.InfoHash] = task;
                Launch(swarm);
            }
        }
        return await task;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }
        await _stopping.CancelAsync();
        _listener?.Dispose();
        await _acceptLoop;
        Task[] loops;
        lock (_lock)
        {
            loops = [.. _loops];
        }
        await Task.WhenAll(loops);
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Peer-to-peer listener on {EndPoint}, peer id {PeerId}")]
        public static partial void Listening(ILogger logger, string endPoint, string peerId);

        [LoggerMessage(2, LogLevel.Information, "Resuming {Digest}: {Verified} of {Pieces} pieces verified on disk")]
        public static partial void Resumed(ILogger logger, Core.Digest digest, int verified, int pieces);

        [LoggerMessage(3, LogLevel.Warning, "Accepting a peer connection failed: {Reason}")]
        public static partial void AcceptFailed(ILogger logger, string reason);

        [LoggerMessage(4, LogLevel.Warning, "TLS with the peer at {Remote} failed: {Reason}")]
        public static partial void TlsFailed(ILogger logger, string remote, string reason);

        [LoggerMessage(5, LogLevel.Warning, "Refused a plaintext connection from {Remote}: p2p:tls:mode is strict")]
        public static partial void PlaintextRefused(ILogger logger, string remote);
    }
}
