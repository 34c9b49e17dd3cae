using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Shoal.Core.Blobs;
using Shoal.TestKit;
using Shoal.P2P.Protocol;

namespace Shoal.P2P.Tests;

/// <summary>Two peers over a real loopback TCP connection.</summary>
public sealed class PeerConnectionTests : IAsyncLifetime
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(20));
    private readonly List<string> _tempFiles = [];
    private TcpClient? _client;
    private Socket? _server;

    private CancellationToken Token => _timeout.Token;

    public async Task InitializeAsync()
    {
        _listener.Start();
        _client = new TcpClient(AddressFamily.InterNetwork);
        var accept = _listener.AcceptSocketAsync(Token).AsTask();
        await _client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port, Token);
        _server = await accept;
    }

    public Task DisposeAsync()
    {
        _client?.Dispose();
        _server?.Dispose();
        _listener.Stop();
        _timeout.Dispose();
        foreach (var file in _tempFiles)
        {
            File.Delete(file);
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Read_BlockArrivingInParts_TellsTheTransportHowManyBytesTheMessageStillNeeds()
    {
        var info = TestData.MetaInfoFor(TestData.RandomBytes(1024 * 1024, 7), 1024 * 1024);
        await using var sender = new PeerConnection(_client!.GetStream());
        await using var receiver = new PeerConnection(new NetworkStream(_server!, ownsSocket: false));
        var waits = new List<long>();
        receiver.Awaiting = waits.Add;
        await sender.WriteAsync(HandshakeMessage.For(info, PeerId.NewRandom(), "team/app"), Token);
        Assert.Equal(MessageType.Handshake, (await receiver.ReadMessageAsync(Token))!.Value.Type);
        await sender.WriteAsync(new BitfieldMessage(new Bitfield(info.PieceCount)), Token);
        Assert.Equal(MessageType.Bitfield, (await receiver.ReadMessageAsync(Token))!.Value.Type);
        Assert.Equal(ProtocolConstants.HeaderLength, waits[0]); // nothing buffered: a header

        // A 64 KiB block: its header and the first 1,000 bytes of data, then the rest.
        var frame = new byte[PieceMessage.HeaderLength];
        new PieceMessage(0, 0, 64 * 1024).EncodeHeader(frame);
        var data = TestData.RandomBytes(64 * 1024, 8);
        var whole = frame.Concat(data).ToArray();
        await _client.GetStream().WriteAsync(whole.AsMemory(0, frame.Length + 1000), Token);
        waits.Clear();
        var read = receiver.ReadMessageAsync(Token).AsTask();
        await Poll.UntilAsync(() => waits.Count > 0 && waits[^1] == whole.Length - (frame.Length + 1000));
        Assert.False(read.IsCompleted);
        await _client.GetStream().WriteAsync(whole.AsMemory(frame.Length + 1000), Token);
        var piece = (await read)!.Value;

        Assert.Equal(MessageType.Piece, piece.Type);
        Assert.Equal(data, piece.Data.ToArray());
    }

    [Fact]
    public async Task Exchange_HandshakeBitfieldRequestPiece_BlocksArriveIntactAndVerify()
    {
        var blob = TestData.RandomBytes((3 * 1024 * 1024) + 12345, 42);
        var info = TestData.MetaInfoFor(blob, 2 * 1024 * 1024);
        await using var downloader = new PeerConnection(_client!.GetStream());
        await using var seeder = new PeerConnection(new NetworkStream(_server!, ownsSocket: false));
        var seederBits = new Bitfield(info.PieceCount);
        seederBits.SetAll();

        // Initiator: handshake first. Acceptor: validate it, then answer with its own.
        await downloader.WriteAsync(HandshakeMessage.For(info, PeerId.NewRandom(), "team/app"), Token);
        var hello = await seeder.ReadMessageAsync(Token);
        Assert.Equal(MessageType.Handshake, hello!.Value.Type);
        seeder.Reader.BindTo(info);
        seeder.Write(HandshakeMessage.For(info, PeerId.NewRandom(), "team/app", PeerFlags.Origin));
        await seeder.WriteAsync(new BitfieldMessage(seederBits), Token);
        await downloader.WriteAsync(new BitfieldMessage(new Bitfield(info.PieceCount)), Token);

        var reply = await downloader.ReadMessageAsync(Token);
        Assert.True(reply!.Value.Handshake.IsOrigin);
        downloader.Reader.BindTo(info);
        var bits = new Bitfield(info.PieceCount);
        var bitfield = await downloader.ReadMessageAsync(Token);
        bits.ReadFrom(bitfield!.Value.Data);
        Assert.True(bits.IsFull);
        Assert.Equal(MessageType.Bitfield, (await seeder.ReadMessageAsync(Token))!.Value.Type);

        // The downloader pipelines every block of every piece; the seeder answers from memory and from a file.
        var file = WriteTempFile(blob);
        using var handle = File.OpenHandle(file);
        var requests = new List<RequestMessage>();
        for (var piece = 0; piece < info.PieceCount; piece++)
        {
            for (var offset = 0; offset < info.PieceSize(piece); offset += ProtocolConstants.MaxBlockLength)
            {
                var request = new RequestMessage(piece, offset, Math.Min(ProtocolConstants.MaxBlockLength, info.PieceSize(piece) - offset));
                requests.Add(request);
                downloader.Write(request);
            }
        }
        await downloader.FlushAsync(Token);

        var serve = Task.Run(async () =>
        {
            for (var n = 0; n < requests.Count; n++)
            {
                var message = (await seeder.ReadMessageAsync(Token))!.Value;
                var r = message.Request;
                var at = info.PieceOffset(r.PieceIndex) + r.Offset;
                if (n % 2 == 0)
                {
                    await seeder.WritePieceAsync(r.PieceIndex, r.Offset, blob.AsMemory((int)at, r.Length), Token);
                }
                else
                {
                    await seeder.WritePieceAsync(r.PieceIndex, r.Offset, handle, at, r.Length, Token);
                }
            }
        });

        var received = new byte[blob.Length];
        foreach (var expected in requests)
        {
            var message = (await downloader.ReadMessageAsync(Token))!.Value;
            Assert.Equal(new PieceMessage(expected.PieceIndex, expected.Offset, expected.Length), message.Piece);
            message.Data.CopyTo(received.AsSpan((int)info.PieceOffset(message.PieceIndex) + message.Offset));
        }
        await serve;

        for (var piece = 0; piece < info.PieceCount; piece++)
        {
            Assert.True(info.VerifyPiece(piece, received.AsSpan((int)info.PieceOffset(piece), info.PieceSize(piece))));
        }
        Assert.Equal(blob, received);
        Assert.Equal(seeder.BytesWritten, downloader.BytesRead);
        Assert.Equal(downloader.BytesWritten, seeder.BytesRead);
    }

    [Fact]
    public async Task ReadMessageAsync_PeerClosesBetweenFrames_ReturnsNull()
    {
        await using var reader = new PeerConnection(new NetworkStream(_server!, ownsSocket: false));
        await using (var writer = new PeerConnection(_client!.GetStream()))
        {
            await writer.WriteAsync(TestData.Handshake(4), Token);
        }

        Assert.Equal(MessageType.Handshake, (await reader.ReadMessageAsync(Token))!.Value.Type);
        Assert.Null(await reader.ReadMessageAsync(Token));
    }

    [Fact]
    public async Task ReadMessageAsync_PeerClosesInsideAFrame_ThrowsProtocolException()
    {
        await using var reader = new PeerConnection(new NetworkStream(_server!, ownsSocket: false));
        var frame = TestData.Encode(TestData.Handshake(4));
        var stream = _client!.GetStream();
        await stream.WriteAsync(frame.AsMemory(0, frame.Length - 3), Token);
        _client.Client.Shutdown(SocketShutdown.Send);

        var ex = await Assert.ThrowsAsync<ProtocolException>(async () => await reader.ReadMessageAsync(Token));
        Assert.Contains($"({frame.Length - 3} bytes left over)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadMessageAsync_PeerClosesInsideALargeBlock_ReportsTheBytesLeftOver()
    {
        // A block cut off after several of the pipe's buffer segments: the count must be taken before
        // the segments go back to the pool.
        var info = TestData.MetaInfoFor(TestData.RandomBytes(1024 * 1024, 9), 1024 * 1024);
        await using var sender = new PeerConnection(_client!.GetStream());
        await using var reader = new PeerConnection(new NetworkStream(_server!, ownsSocket: false));
        await sender.WriteAsync(HandshakeMessage.For(info, PeerId.NewRandom(), "team/app"), Token);
        Assert.Equal(MessageType.Handshake, (await reader.ReadMessageAsync(Token))!.Value.Type);
        await sender.WriteAsync(new BitfieldMessage(new Bitfield(info.PieceCount)), Token);
        Assert.Equal(MessageType.Bitfield, (await reader.ReadMessageAsync(Token))!.Value.Type);
        var header = new byte[PieceMessage.HeaderLength];
        new PieceMessage(0, 0, 1024 * 1024).EncodeHeader(header);
        var sent = header.Concat(TestData.RandomBytes(300_000, 10)).ToArray();
        await _client.GetStream().WriteAsync(sent, Token);
        _client.Client.Shutdown(SocketShutdown.Send);

        var ex = await Assert.ThrowsAsync<ProtocolException>(async () => await reader.ReadMessageAsync(Token));
        Assert.Contains($"({sent.Length} bytes left over)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadMessageAsync_HttpRequestInsteadOfHandshake_ThrowsWithoutWaitingForMoreData()
    {
        await using var reader = new PeerConnection(new NetworkStream(_server!, ownsSocket: false));

        // "GET " reads as a 1.2 GB frame: rejected from the header, while the socket stays open.
        await _client!.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n"), Token);

        await Assert.ThrowsAsync<ProtocolException>(async () => await reader.ReadMessageAsync(Token));
    }

    [Fact]
    public async Task ReadMessageAsync_OversizedPieceHeader_ThrowsBeforeThePayloadArrives()
    {
        await using var reader = new PeerConnection(new NetworkStream(_server!, ownsSocket: false));
        await using var writer = new PeerConnection(_client!.GetStream());
        writer.Write(TestData.Handshake(4));
        await writer.WriteAsync(new BitfieldMessage(new Bitfield(4)), Token);
        await reader.ReadMessageAsync(Token);
        await reader.ReadMessageAsync(Token);

        var header = new byte[] { 0, 0x10, 0, 0x0A, (byte)MessageType.Piece, 0, 0, 0, 0 };
        await _client.GetStream().WriteAsync(header, Token);

        var ex = await Assert.ThrowsAsync<ProtocolException>(async () => await reader.ReadMessageAsync(Token));
        Assert.Equal(PeerErrorCode.ProtocolViolation, ex.Code);
    }

    [Fact]
    public async Task ReadMessageAsync_Canceled_ThrowsOperationCanceled()
    {
        await using var reader = new PeerConnection(new NetworkStream(_server!, ownsSocket: false));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadMessageAsync(cts.Token));
    }

    [Fact]
    public async Task ErrorMessage_SentBeforeClose_IsReadByThePeer()
    {
        await using var reader = new PeerConnection(new NetworkStream(_server!, ownsSocket: false));
        await using (var writer = new PeerConnection(_client!.GetStream()))
        {
            await writer.WriteAsync(new ErrorMessage(PeerErrorCode.UnknownSwarm, "not serving that blob"), Token);
        }

        var message = (await reader.ReadMessageAsync(Token))!.Value;

        Assert.Equal(PeerErrorCode.UnknownSwarm, message.Error.Code);
        Assert.Equal(MessageReaderState.Closed, reader.Reader.State);
        Assert.Null(await reader.ReadMessageAsync(Token));
    }

    private string WriteTempFile(byte[] content)
    {
        var path = Path.Combine(Path.GetTempPath(), "shoal-p2p-test-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, content);
        _tempFiles.Add(path);
        return path;
    }
}
