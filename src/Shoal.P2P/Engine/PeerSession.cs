using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Shoal.P2P.Protocol;
using Shoal.P2P.Scheduling;

namespace Shoal.P2P.Engine;

/// <summary>
/// One connection of a swarm. Two tasks drive it: the reader decodes messages, answers requests
/// from the blob file (through the writer's queue), assembles and verifies the pieces it receives and
/// writes them to disk, and posts everything else to the swarm's loop; the writer drains the send
/// queue. Both continue on the socket event thread when a read or write completes (inline
/// completions, see <see cref="PeerSockets.Configure"/>); large pieces are hashed and seeds' blocks
/// read on the thread pool. The fields marked "loop" belong to the swarm's loop and are touched by
/// nothing else.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The session disposes its connection when its reader ends; the token source is cancelled, never waited on.")]
internal sealed partial class PeerSession
{
    /// <summary>The block size this peer requests: pieces are fetched in blocks of this size.</summary>
    public const int BlockSize = 256 * 1024;

    /// <summary>
    /// Pieces up to this size are verified and written on the thread their last block arrived on
    /// (the socket event thread); larger ones move to the thread pool first. Side by side at 16
    /// hosts, moving every piece (and every block read) to the pool gave back nearly all of what
    /// inline completions saved.
    /// </summary>
    private const int InlineStoreLimit = 256 * 1024;

    /// <summary>Bytes a connection may upload before it gives its upload slot back to waiting connections.</summary>
    private const long SlotQuantum = 8L * 1024 * 1024;

    private readonly Swarm _swarm;
    private readonly PeerEngine _engine;
    private readonly Channel<Outgoing> _queue = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _abort = new();
    private readonly ConcurrentDictionary<(int, int), byte> _cancelled = new();
    private readonly List<Assembly> _assemblies = [];
    private Socket? _socket;
    private PeerConnection? _connection;
    private Task _writer = Task.CompletedTask;
    private int _serving;
    private int _closed;
    private int _parting;
    private long _received;
    private long _sent;
    private Bitfield? _offered;

    public PeerSession(Swarm swarm, PeerEngine engine, bool outgoing, string address)
    {
        _swarm = swarm;
        _engine = engine;
        Outgoing = outgoing;
        Address = address;
    }

    /// <summary>True when we dialled.</summary>
    public bool Outgoing { get; }

    /// <summary>The peer's address (<c>host:port</c> dialled, or the remote end point of an accepted connection).</summary>
    public string Address { get; }

    /// <summary>The peer's handshake, once received.</summary>
    public HandshakeMessage? Remote { get; private set; }

    /// <summary>Piece payload bytes received on this connection (read by the loop for throughput).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Piece payload bytes sent on this connection (read by the loop for throughput).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>
    /// Why the peer we dialled turned us away (an Error in place of its handshake), or null. Set by
    /// the connection task before it posts <see cref="SwarmEvent.Closed"/>, read by the loop after.
    /// </summary>
    public PeerErrorCode? Refusal { get; private set; }

    // ---- loop-owned state ----

    /// <summary>Loop: the peer as the picker knows it (null until the bitfield arrived).</summary>
    public PickerPeer? Peer { get; set; }

    /// <summary>Loop: the tracker's entry we dialled (null for an accepted connection); says whether it is an origin before the handshake does.</summary>
    public PeerAddress? Dialled { get; init; }

    /// <summary>Loop: true while the session counts in the swarm (cleared when it is removed).</summary>
    public bool Active { get; set; } = true;

    /// <summary>Loop: received bytes at the last throughput sample.</summary>
    public long SampledBytes { get; set; }

    /// <summary>Loop: received bytes already added to the swarm's per-source totals.</summary>
    public long CountedBytes { get; set; }

    /// <summary>Loop: smoothed download rate from this peer, bytes per second.</summary>
    public double Rate { get; set; }

    /// <summary>Loop: the shortest time a piece took from our request to its arrival lately (sizes the request pipeline).</summary>
    public RecentMinimum Latency;

    /// <summary>Loop: sent bytes at the last throughput sample.</summary>
    public long SampledSent { get; set; }

    /// <summary>Loop: smoothed rate of piece bytes in both directions, bytes per second (what the connection is worth).</summary>
    public double ExchangeRate { get; set; }

    /// <summary>Loop: when the session became ready (handshakes and bitfields exchanged).</summary>
    public long ReadyAt { get; set; }

    /// <summary>Loop (super-seeding origins): pieces announced to the peer so far.</summary>
    public Bitfield Offered => _offered ??= new Bitfield(_swarm.Info.PieceCount);

    /// <summary>Loop (super-seeding origins): since when the peer is the swarm's only agent (0 when it is not).</summary>
    public long LoneSince { get; set; }

    /// <summary>Loop (super-seeding origins): the peer was told we have everything (it was alone with us for a while).</summary>
    public bool OfferedAll { get; set; }

    /// <summary>Loop (super-seeding origins): pieces offered to the peer and not yet sent to it nor announced by it.</summary>
    public HashSet<int> OpenOffers { get; } = [];

    /// <summary>Loop: pieces stored whose Haves to this peer are held to leave together.</summary>
    public List<int> HeldHaves { get; } = [];

    /// <summary>Loop: when the loop last queued something to send (for keep-alives).</summary>
    public long LastQueued { get; set; }

    /// <summary>Loop: the peer is an origin (from its handshake, or the tracker's word before it).</summary>
    public bool IsOrigin => Remote?.IsOrigin ?? Dialled?.IsOrigin ?? false;

    /// <summary>Queues a message (any thread). Dropped after close.</summary>
    public void Send(in Outgoing item) => _queue.Writer.TryWrite(item);

    /// <summary>Closes the connection, first sending an Error with <paramref name="code"/> when given.</summary>
    public void Close(PeerErrorCode? code = null, string? text = null)
    {
        if (code is { } c)
        {
            _queue.Writer.TryWrite(Engine.Outgoing.Error(c, text ?? c.ToString()));
            _queue.Writer.TryComplete();
        }
        else
        {
            Abort();
        }
    }

    /// <summary>
    /// Ends a connection that has nothing left to carry (both ends have the whole blob) at a frame
    /// boundary: the frame being written is finished, queued blocks are dropped, and our side is shut
    /// down, so the peer sees a clean close rather than a frame cut off; a peer that does not close
    /// its side within <see cref="PeerSockets.CloseGrace"/> is cut off.
    /// </summary>
    public void Part()
    {
        if (Interlocked.Exchange(ref _parting, 1) != 0 || Volatile.Read(ref _closed) != 0)
        {
            return;
        }
        _queue.Writer.TryComplete();
        try
        {
            _abort.CancelAfter(PeerSockets.CloseGrace);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Dials <paramref name="host"/>:<paramref name="port"/>, exchanges handshakes and runs the connection until it ends.</summary>
    public async Task RunOutgoingAsync(string host, int port)
    {
        var token = _abort.Token;
        try
        {
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                deadline.CancelAfter(_engine.Options.HandshakeTimeout);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                PeerSockets.Configure(socket);
                _socket = socket;
                await socket.ConnectAsync(host, port, deadline.Token);
                var stream = await _engine.Transport.ConnectAsync(socket, host, deadline.Token);
                _connection = new PeerConnection(stream);
                if (stream is NetworkStream)
                {
                    PeerSockets.WakeOnWholeMessages(socket, _connection);
                }
                _writer = WriteLoopAsync();
                var hello = await _connection.ReadMessageAsync(deadline.Token);
                if (hello is { Type: MessageType.Error })
                {
                    // Turned away (Busy, UnknownSwarm, ...): not a protocol violation; the swarm decides when to try again.
                    var refusal = hello.Value.Error;
                    Refusal = refusal.Code;
                    Log.Refused(_engine.Logger, Address, refusal.Code, refusal.Text);
                    return;
                }
                if (hello is not { Type: MessageType.Handshake })
                {
                    throw new ProtocolException("the peer closed before its handshake");
                }
                var handshake = hello.Value.Handshake;
                if (!string.Equals(handshake.InfoHash, _swarm.Info.InfoHash, StringComparison.Ordinal))
                {
                    throw new ProtocolException(PeerErrorCode.SwarmMismatch, "the peer answered for another swarm");
                }
                _connection.Reader.BindTo(_swarm.Info);
                Remote = handshake;
                if (handshake.PeerId == _engine.PeerId)
                {
                    throw new ProtocolException(PeerErrorCode.DuplicateConnection, "dialled ourselves");
                }
                await ReadBitfieldAsync(deadline.Token);
            }
            await ReadLoopAsync(token);
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            await FinishAsync();
        }
    }

    /// <summary>Runs an accepted connection whose handshake the engine read (and the loop accepted): answers it and runs until it ends.</summary>
    public async Task RunIncomingAsync(Socket socket, PeerConnection connection, HandshakeMessage handshake)
    {
        _socket = socket;
        _connection = connection;
        Remote = handshake;
        var token = _abort.Token;
        try
        {
            _connection.Reader.BindTo(_swarm.Info);
            _writer = WriteLoopAsync();
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                deadline.CancelAfter(_engine.Options.HandshakeTimeout);
                await ReadBitfieldAsync(deadline.Token);
            }
            await ReadLoopAsync(token);
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            await FinishAsync();
        }
    }

    private async Task ReadBitfieldAsync(CancellationToken cancellationToken)
    {
        var connection = _connection!;
        if (await connection.ReadMessageAsync(cancellationToken) is not { Type: MessageType.Bitfield } message)
        {
            throw new ProtocolException("the peer closed before its bitfield");
        }
        var bits = new Bitfield(_swarm.Info.PieceCount);
        bits.ReadFrom(message.Data);
        _engine.Stats.Opened();
        _swarm.Post(new SwarmEvent.Ready(this, bits));
    }

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        var connection = _connection!;
        var file = _swarm.File;
        var info = _swarm.Info;
        while (await connection.ReadMessageAsync(cancellationToken) is { } message)
        {
            switch (message.Type)
            {
                case MessageType.HavePiece:
                    _swarm.Post(new SwarmEvent.Have(this, message.PieceIndex));
                    break;
                case MessageType.Complete:
                    _swarm.Post(new SwarmEvent.HaveAll(this));
                    break;
                case MessageType.Request:
                    if (!file.HasPiece(message.PieceIndex))
                    {
                        throw new ProtocolException(PeerErrorCode.PieceUnavailable, $"piece {message.PieceIndex} was never announced");
                    }
                    if (Interlocked.Increment(ref _serving) > ProtocolConstants.MaxOutstandingRequests)
                    {
                        throw new ProtocolException(PeerErrorCode.TooManyRequests, $"more than {ProtocolConstants.MaxOutstandingRequests} requests outstanding");
                    }
                    _queue.Writer.TryWrite(Engine.Outgoing.Serve(message.PieceIndex, message.Offset, message.Length));
                    break;
                case MessageType.Cancel:
                    if (_cancelled.Count > ProtocolConstants.MaxOutstandingRequests * 2)
                    {
                        _cancelled.Clear(); // stale cancels of blocks already sent
                    }
                    _cancelled.TryAdd((message.PieceIndex, message.Offset), 0);
                    break;
                case MessageType.Piece:
                    await _engine.Ingress.WaitAsync(message.Length, cancellationToken);
                    Interlocked.Add(ref _received, message.Length);
                    _engine.Stats.Received(message.Length, IsOrigin);
                    await AcceptBlockAsync(message, file, info, cancellationToken);
                    break;
                case MessageType.Error:
                    Log.PeerError(_engine.Logger, Address, message.Error.Code, message.Error.Text);
                    return;
            }
        }
    }

    /// <summary>
    /// Copies a block into its piece's buffer; a whole piece is hashed here (once, on this
    /// connection's task, so hashing spreads over cores) and, when it verifies, written to the page
    /// cache before the loop hears of it. Pieces up to <see cref="InlineStoreLimit"/> are hashed and
    /// written where the read completed (tens of microseconds); larger ones on the thread pool, so
    /// they never hold up the socket event thread for long. Blocks that do not fit our request grid
    /// are discarded (allowed by the spec).
    /// </summary>
    private async ValueTask AcceptBlockAsync(PeerMessage message, Storage.BlobFile file, Core.Blobs.MetaInfo info, CancellationToken cancellationToken)
    {
        var index = message.PieceIndex;
        var pieceSize = info.PieceSize(index);
        if (message.Offset % BlockSize != 0 || message.Length != Math.Min(BlockSize, pieceSize - message.Offset) || file.HasPiece(index) || !file.IsWritable)
        {
            return;
        }
        var assembly = FindAssembly(index, pieceSize);
        var block = message.Offset / BlockSize;
        var bit = 1UL << block;
        if ((assembly.Received & bit) != 0)
        {
            return;
        }
        message.Data.CopyTo(assembly.Buffer.AsSpan(message.Offset, message.Length));
        assembly.Received |= bit;
        if (assembly.Received != assembly.Expected)
        {
            return;
        }
        _assemblies.Remove(assembly);
        try
        {
            if (pieceSize > InlineStoreLimit || !_engine.DiskWatch.InlineAllowed)
            {
                await PeerSockets.LeaveEventThreadAsync();
            }
            var ok = info.VerifyPiece(index, assembly.Buffer.AsSpan(0, pieceSize));
            if (ok)
            {
                _engine.Stats.Verified();
                var started = _engine.DiskWatch.Started();
                try
                {
                    file.WritePiece(index, assembly.Buffer.AsSpan(0, pieceSize));
                }
                catch (IOException ex)
                {
                    // Our disk, not the peer: no other peer's copy of the piece would fare better.
                    _swarm.Post(new SwarmEvent.StoreFailed(index, ex));
                    return;
                }
                NoteFileCall(started, "write");
            }
            else
            {
                _engine.Stats.Corrupt();
            }
            _swarm.Post(new SwarmEvent.PieceDone(this, index, ok));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(assembly.Buffer);
        }
    }

    private Assembly FindAssembly(int index, int pieceSize)
    {
        foreach (var candidate in _assemblies)
        {
            if (candidate.Index == index)
            {
                return candidate;
            }
        }
        // Bounded: pieces abandoned (cancelled, timed out) make room, oldest first.
        if (_assemblies.Count >= ProtocolConstants.MaxOutstandingRequests)
        {
            ArrayPool<byte>.Shared.Return(_assemblies[0].Buffer);
            _assemblies.RemoveAt(0);
        }
        var blocks = (pieceSize + BlockSize - 1) / BlockSize;
        var assembly = new Assembly(index, ArrayPool<byte>.Shared.Rent(pieceSize), blocks == 64 ? ulong.MaxValue : (1UL << blocks) - 1);
        _assemblies.Add(assembly);
        return assembly;
    }

    /// <summary>
    /// Drains the send queue. Control messages (Have, Request, Cancel, ...) go out as soon as they are
    /// queued; requested blocks wait in <c>blocks</c> and are sent one at a time, with the queue
    /// checked again between blocks, so an announcement or a request is never stuck behind megabytes
    /// of piece data (the peer's picture of us stays fresh, and so do its requests' round trips).
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var connection = _connection!;
        var token = _abort.Token;
        var reader = _queue.Reader;
        var blocks = new Queue<Outgoing>();
        var holdingSlot = false;
        long sinceSlot = 0;
        try
        {
            while (true)
            {
                while (reader.TryRead(out var item))
                {
                    if (item.Type == MessageType.Piece)
                    {
                        blocks.Enqueue(item);
                    }
                    else if (!await WriteControlAsync(connection, item, token))
                    {
                        return;
                    }
                }
                if (Volatile.Read(ref _parting) != 0)
                {
                    blocks.Clear(); // the peer has the whole blob: nothing queued is worth sending
                }
                if (blocks.TryDequeue(out var block))
                {
                    if (_cancelled.TryRemove((block.Index, block.Offset), out _))
                    {
                        Interlocked.Decrement(ref _serving);
                        continue;
                    }
                    if (!holdingSlot)
                    {
                        await connection.FlushAsync(token);
                        await _engine.UploadSlots.WaitAsync(token);
                        holdingSlot = true;
                        sinceSlot = 0;
                    }
                    await SendBlockAsync(connection, block, token);
                    sinceSlot += block.Length;
                    // Give the slot back when our queue is empty or we had a fair share, so waiting peers get their turn.
                    if (Interlocked.Decrement(ref _serving) == 0 || sinceSlot >= SlotQuantum)
                    {
                        _engine.UploadSlots.Release();
                        holdingSlot = false;
                    }
                    continue;
                }
                await connection.FlushAsync(token);
                if (!await reader.WaitToReadAsync(token))
                {
                    if (Volatile.Read(ref _parting) != 0)
                    {
                        _socket?.Shutdown(SocketShutdown.Send);
                    }
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            if (holdingSlot)
            {
                _engine.UploadSlots.Release();
            }
        }
    }

    /// <summary>Buffers one control message; false after an Error (the connection is closed).</summary>
    private async ValueTask<bool> WriteControlAsync(PeerConnection connection, Outgoing item, CancellationToken token)
    {
        switch (item.Type)
        {
            case MessageType.Handshake:
                connection.Write((HandshakeMessage)item.Reference!);
                break;
            case MessageType.Bitfield:
                connection.Write(new BitfieldMessage((Bitfield)item.Reference!));
                break;
            case MessageType.HavePiece:
                connection.Write(new HavePieceMessage(item.Index));
                break;
            case MessageType.Request:
                connection.Write(new RequestMessage(item.Index, item.Offset, item.Length));
                break;
            case MessageType.Cancel:
                connection.Write(new CancelMessage(item.Index, item.Offset, item.Length));
                break;
            case MessageType.Complete:
                connection.Write(default(CompleteMessage));
                break;
            case MessageType.KeepAlive:
                connection.Write(default(KeepAliveMessage));
                break;
            case MessageType.Error:
                connection.Write(new ErrorMessage((PeerErrorCode)item.Index, (string?)item.Reference));
                await connection.FlushAsync(token);
                EndAfterError();
                return false;
        }
        return true;
    }

    /// <summary>Sends one requested block from the blob file (control messages buffered before it go out with it).</summary>
    private async ValueTask SendBlockAsync(PeerConnection connection, Outgoing block, CancellationToken token)
    {
        if (!_engine.Egress.TryTake(block.Length))
        {
            // Throttled: the control messages buffered so far leave now, not after the wait.
            await connection.FlushAsync(token);
            await _engine.Egress.WaitAsync(block.Length, token);
        }
        var info = _swarm.Info;
        if (!_swarm.File.IsWritable || !_engine.DiskWatch.InlineAllowed)
        {
            // A seed's blob may have left the page cache long ago: read it off the event thread.
            // A download's pieces were written moments ago and are read where the request arrived,
            // unless file calls have been slow lately.
            await PeerSockets.LeaveEventThreadAsync();
        }
        // A seed's reads are not watched: they may need the disk by design, and run on the pool anyway.
        var watched = _swarm.File.IsWritable;
        var started = watched ? _engine.DiskWatch.Started() : default;
        connection.WritePiece(block.Index, block.Offset, _swarm.File.Handle, info.PieceOffset(block.Index) + block.Offset, block.Length);
        if (watched)
        {
            NoteFileCall(started, "read");
        }
        await connection.FlushAsync(token);
        Interlocked.Add(ref _sent, block.Length);
        _engine.Stats.Sent(block.Length);
        if (_swarm.SuperSeeding && block.Offset + block.Length >= info.PieceSize(block.Index))
        {
            _swarm.Post(new SwarmEvent.PieceSent(this, block.Index));
        }
    }

    /// <summary>Times a blob-file call (see <see cref="DiskWatch"/>) and says so when it moved file calls off the event thread.</summary>
    private void NoteFileCall(FileCallStart started, string call)
    {
        if (_engine.DiskWatch.Finished(started) is { } elapsed)
        {
            Log.SlowFileCall(_engine.Logger, call, elapsed.TotalMilliseconds, _swarm.Info.Digest.ToString(), DiskWatch.WaitsToMove, DiskWatch.Backoff.TotalSeconds);
        }
    }

    private void Fail(Exception ex)
    {
        if (Volatile.Read(ref _parting) != 0)
        {
            // Whatever ends a parting connection (the peer closing, a block it was still sending cut
            // off, the grace running out) is expected.
            Abort();
            return;
        }
        if (ex is ProtocolException protocol && Volatile.Read(ref _closed) == 0 && _connection is { } connection)
        {
            Log.ProtocolViolation(_engine.Logger, Address, protocol.Code, protocol.Message);
            // Best effort: tell the peer why, then close.
            _queue.Writer.TryWrite(Engine.Outgoing.Error(protocol.Code, protocol.Message));
            _queue.Writer.TryComplete();
            return;
        }
        if (ex is not OperationCanceledException)
        {
            Log.ConnectionEnded(_engine.Logger, Address, ex.GetType().Name, ex.Message);
        }
        Abort();
    }

    /// <summary>
    /// Our Error is out: our side is shut down, and the reader goes on until the peer closes too (it
    /// stops at our Error) or <see cref="PeerSockets.CloseGrace"/> runs out. Closing at once would make the kernel
    /// answer whatever the peer had in flight with a reset, and the peer would see a broken connection
    /// instead of our Error.
    /// </summary>
    private void EndAfterError()
    {
        Volatile.Write(ref _parting, 1);
        try
        {
            _socket?.Shutdown(SocketShutdown.Send);
            _abort.CancelAfter(PeerSockets.CloseGrace);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            Abort();
        }
    }

    private async Task FinishAsync()
    {
        // The read side ended (the peer closed, sent an Error, broke the protocol): end the write side
        // at a frame boundary too, dropping queued blocks, so the peer sees a clean close rather than
        // a block cut off. Let the writer send a queued Error, but not for long.
        Volatile.Write(ref _parting, 1);
        _queue.Writer.TryComplete();
        await Task.WhenAny(_writer, Task.Delay(TimeSpan.FromSeconds(1)));
        Abort();
        try
        {
            try
            {
                await _writer;
            }
            catch (Exception)
            {
                // Reported by the writer itself.
            }
            if (_connection is { } connection)
            {
                await connection.DisposeAsync();
            }
            foreach (var assembly in _assemblies)
            {
                ArrayPool<byte>.Shared.Return(assembly.Buffer);
            }
            _assemblies.Clear();
        }
        finally
        {
            // The slot in the connection budget is free once the socket is closed (Abort), not when
            // the swarm let go of the session: a parting or refused connection stays open until its
            // peer closes too (at most PeerSockets.CloseGrace), and p2p:maxConnections bounds open
            // sockets.
            _engine.ReleaseConnection();
            _swarm.Post(new SwarmEvent.Closed(this));
        }
    }

    private void Abort()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        _queue.Writer.TryComplete();
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        try
        {
            _socket?.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private sealed class Assembly(int index, byte[] buffer, ulong expected)
    {
        public int Index { get; } = index;

        public byte[] Buffer { get; } = buffer;

        public ulong Expected { get; } = expected;

        public ulong Received { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Peer {Address} sent Error {Code}: {Text}")]
        public static partial void PeerError(ILogger logger, string address, PeerErrorCode code, string text);

        [LoggerMessage(2, LogLevel.Information, "Peer {Address} broke the protocol ({Code}): {Reason}")]
        public static partial void ProtocolViolation(ILogger logger, string address, PeerErrorCode code, string reason);

        [LoggerMessage(4, LogLevel.Debug, "Peer {Address} turned the connection away ({Code}): {Text}")]
        public static partial void Refused(ILogger logger, string address, PeerErrorCode code, string text);

        [LoggerMessage(5, LogLevel.Warning, "A piece {Call} of {Digest} blocked for {Milliseconds:0} ms, {Waits} such calls within {Seconds} s (the disk or memory pressure, not a page-cache copy); peer connections do their file calls on the thread pool until none has for {Seconds} s")]
        public static partial void SlowFileCall(ILogger logger, string call, double milliseconds, string digest, int waits, double seconds);

        [LoggerMessage(3, LogLevel.Debug, "Connection to {Address} ended: {Error}: {Reason}")]
        public static partial void ConnectionEnded(ILogger logger, string address, string error, string reason);
    }
}
