using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Shoal.Core.Blobs;
using Shoal.P2P.Engine;
using Shoal.P2P.Protocol;
using Shoal.P2P.Storage;

namespace Shoal.P2P.Tests;

/// <summary>
/// The order in which a session's writer puts its queue on the wire: control messages (Have,
/// Request, Cancel, KeepAlive, Complete, Error) go before requested blocks that were queued ahead
/// of them. A session of a seed swarm whose loop is not running, so the test alone decides what is
/// queued and when; the other end is a plain <see cref="PeerConnection"/> on loopback.
/// </summary>
public sealed class WriterPriorityTests : IAsyncLifetime
{
    private const int PieceLength = 64 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "shoal-p2p-" + Guid.NewGuid().ToString("N"));
    private readonly byte[] _content = TestData.RandomBytes(8 * PieceLength, 11);
    private readonly MetaInfo _info;
    private readonly CancellationTokenSource _timeout = new(Timeout);
    private PeerEngine? _engine;
    private BlobFile? _file;
    private PeerConnection? _client;
    private Task _session = Task.CompletedTask;

    public WriterPriorityTests()
    {
        _info = TestData.MetaInfoFor(_content, PieceLength);
    }

    [Fact]
    public async Task ControlMessagesQueuedBehindBlocks_AreWrittenFirst()
    {
        var session = await CreateSessionAsync(new P2POptions());
        session.Send(Outgoing.Serve(0, 0, PieceLength));
        session.Send(Outgoing.Serve(1, 0, PieceLength));
        session.Send(Outgoing.Have(5));
        session.Send(Outgoing.Serve(2, 0, PieceLength));
        session.Send(Outgoing.Request(6, 0, PieceLength));
        session.Send(Outgoing.Cancel(7, 0, PieceLength));
        session.Send(new Outgoing(MessageType.KeepAlive, 0, 0, 0));
        session.Send(new Outgoing(MessageType.Complete, 0, 0, 0));
        session.Send(Outgoing.Serve(3, 0, PieceLength));

        await StartAsync(session);
        var received = await ReadAsync(9);

        Assert.Equal(
            ["HavePiece(5)", "Request(6, 0, 65536)", "Cancel(7, 0, 65536)", "KeepAlive", "Complete", "Piece(0, 0, 65536)", "Piece(1, 0, 65536)", "Piece(2, 0, 65536)", "Piece(3, 0, 65536)"],
            received.Select(m => m.Text));
    }

    [Fact]
    public async Task ControlMessagesQueuedWhileBlocksWait_OvertakeTheBlocksNotYetSent()
    {
        var session = await StartWithFourBlocksWaitingForTheSlotAsync();

        session.Send(Outgoing.Have(6));
        session.Send(Outgoing.Cancel(7, 0, PieceLength));
        session.Send(new Outgoing(MessageType.KeepAlive, 0, 0, 0));
        _engine!.UploadSlots.Release();
        var received = await ReadAsync(7);

        // The block in hand when they were queued goes first; the rest wait behind them.
        Assert.Equal(
            ["Piece(0, 0, 65536)", "HavePiece(6)", "Cancel(7, 0, 65536)", "KeepAlive", "Piece(1, 0, 65536)", "Piece(2, 0, 65536)", "Piece(3, 0, 65536)"],
            received.Select(m => m.Text));
        // The blocks themselves are intact.
        Assert.All(received.Where(m => m.Type == MessageType.Piece), m => Assert.Equal(_content.AsSpan(m.Index * PieceLength, PieceLength).ToArray(), m.Data));
    }

    [Fact]
    public async Task ErrorQueuedBehindBlocks_ClosesWithoutSendingThem()
    {
        var session = await CreateSessionAsync(new P2POptions());
        session.Send(Outgoing.Serve(0, 0, PieceLength));
        session.Send(Outgoing.Serve(1, 0, PieceLength));
        session.Close(PeerErrorCode.Busy, "going away");

        await StartAsync(session, answer: false);

        var error = (await _client!.ReadMessageAsync(_timeout.Token))!.Value;
        Assert.Equal(MessageType.Error, error.Type);
        Assert.Equal(PeerErrorCode.Busy, error.Error.Code);
        Assert.Null(await _client.ReadMessageAsync(_timeout.Token));
        await _client.DisposeAsync();
        _client = null;
        await _session.WaitAsync(_timeout.Token);
    }

    [Fact]
    public async Task Error_PeerStillSending_ReadsTheErrorThenACleanClose_NotAReset()
    {
        var session = await CreateSessionAsync(new P2POptions());
        session.Close(PeerErrorCode.Busy, "going away");
        await StartAsync(session, answer: false);

        var error = (await _client!.ReadMessageAsync(_timeout.Token))!.Value;
        Assert.Equal(MessageType.Error, error.Type);
        // Our side waits for the peer's close (up to PeerSockets.CloseGrace): the socket, and its
        // budget slot, are still held.
        Assert.Equal(1, _engine!.ConnectionCount);
        // The peer had things in flight when our Error reached it.
        await PeerAssert.SendsOnThenSeesACleanCloseAsync(_client, _info.PieceCount, _timeout.Token);
        await _client.DisposeAsync();
        _client = null;
        await _session.WaitAsync(_timeout.Token);
        Assert.Equal(0, _engine.ConnectionCount);
    }

    [Fact]
    public async Task Part_WithBlocksQueued_SendsTheBlockInHandThenClosesBetweenFrames()
    {
        var session = await StartWithFourBlocksWaitingForTheSlotAsync();

        session.Part();
        _engine!.UploadSlots.Release();

        // The block in hand goes out whole, the others not at all, then a clean close: never a frame
        // cut off (which the reader reports as a protocol violation).
        var received = await ReadAsync(1);
        Assert.Equal(["Piece(0, 0, 65536)"], received.Select(m => m.Text));
        Assert.Equal(_content.AsSpan(0, PieceLength).ToArray(), received[0].Data);
        Assert.Null(await _client!.ReadMessageAsync(_timeout.Token));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
        try
        {
            await _session.WaitAsync(Timeout);
        }
        finally
        {
            _file?.Dispose();
            if (_engine is not null)
            {
                await _engine.DisposeAsync();
            }
            _timeout.Dispose();
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    /// <summary>A session of a seed swarm (complete blob, loop not running) with its greeting queued, not yet running.</summary>
    private async Task<PeerSession> CreateSessionAsync(P2POptions options)
    {
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, "seed");
        await File.WriteAllBytesAsync(path, _content);
        _engine = new PeerEngine(options, new PeerEngineSetup());
        _file = BlobFile.OpenComplete(_info, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous));
        var swarm = new Swarm(_engine, _info, null, _file, null, null);
        Assert.False(swarm.SuperSeeding);
        // As the engine does for every session: a slot in the connection budget, freed when it closes.
        Assert.True(_engine.TryReserveConnection());
        var session = new PeerSession(swarm, _engine, outgoing: false, "test");
        session.Send(new Outgoing(MessageType.Handshake, 0, 0, 0, HandshakeMessage.For(_info, _engine.PeerId, null)));
        session.Send(new Outgoing(MessageType.Bitfield, 0, 0, 0, _file.Snapshot()));
        return session;
    }

    /// <summary>
    /// A running session with one upload slot, held by the test, and blocks 0–3 queued: the writer
    /// takes them in hand, flushes what it buffered (the greeting, read here) and waits for the slot
    /// before sending any block.
    /// </summary>
    private async Task<PeerSession> StartWithFourBlocksWaitingForTheSlotAsync()
    {
        var session = await CreateSessionAsync(new P2POptions { UploadSlots = 1 });
        await _engine!.UploadSlots.WaitAsync(_timeout.Token);
        for (var i = 0; i < 4; i++)
        {
            session.Send(Outgoing.Serve(i, 0, PieceLength));
        }
        await StartAsync(session);
        return session;
    }

    /// <summary>
    /// Connects the session to a client over loopback, runs it and reads its greeting (Handshake,
    /// full Bitfield); the client answers with an empty Bitfield unless <paramref name="answer"/> is false.
    /// </summary>
    private async Task StartAsync(PeerSession session, bool answer = true)
    {
        var token = _timeout.Token;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptAsync(token).AsTask();
        await clientSocket.ConnectAsync(listener.LocalEndPoint!, token);
        var serverSocket = await accept;
        _client = new PeerConnection(new NetworkStream(clientSocket, ownsSocket: true));
        var server = new PeerConnection(new NetworkStream(serverSocket, ownsSocket: true));
        // As the engine does for an accepted connection: the peer's handshake is read before the session runs.
        await _client.WriteAsync(HandshakeMessage.For(_info, PeerId.NewRandom(), null), token);
        var theirs = (await server.ReadMessageAsync(token))!.Value;
        Assert.Equal(MessageType.Handshake, theirs.Type);
        _session = session.RunIncomingAsync(serverSocket, server, theirs.Handshake);

        var hello = (await _client.ReadMessageAsync(token))!.Value;
        Assert.Equal(MessageType.Handshake, hello.Type);
        _client.Reader.BindTo(_info);
        var bitfield = (await _client.ReadMessageAsync(token))!.Value;
        Assert.Equal(MessageType.Bitfield, bitfield.Type);
        if (answer)
        {
            await _client.WriteAsync(new BitfieldMessage(new Bitfield(_info.PieceCount)), token);
        }
    }

    private async Task<List<Received>> ReadAsync(int count)
    {
        var messages = new List<Received>();
        while (messages.Count < count)
        {
            var message = await _client!.ReadMessageAsync(_timeout.Token) ?? throw new EndOfStreamException($"the session closed after {messages.Count} messages");
            messages.Add(new Received(message.Type, message.PieceIndex, message.ToString(), message.Type == MessageType.Piece ? message.Data.ToArray() : []));
        }
        return messages;
    }

    private sealed record Received(MessageType Type, int Index, string Text, byte[] Data);
}
