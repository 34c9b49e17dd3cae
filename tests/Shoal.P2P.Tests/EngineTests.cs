using System.Diagnostics;
using System.Security.Cryptography;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.Core.Store;
using Shoal.TestKit;
using Shoal.P2P.Engine;
using Shoal.P2P.Protocol;
using Shoal.P2P.Storage;
using Xunit.Abstractions;

namespace Shoal.P2P.Tests;

/// <summary>Two engines on loopback: a seeder and a downloader found through a fake tracker.</summary>
public sealed partial class EngineTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "shoal-p2p-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Download_FromSeeder_StoresVerifiedBlob()
    {
        var content = RandomNumberGenerator.GetBytes(32 * 1024 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        await using var seeder = StartSeeder(info, path);
        var store = new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, "store") });
        await using var leecher = StartLeecher(seeder, store);

        var watch = Stopwatch.StartNew();
        var download = await leecher.DownloadAsync(info, "team/app", CancellationToken.None);
        var result = await download.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        watch.Stop();

        Assert.Equal(info.Digest, result.Digest);
        Assert.True(store.Contains(info.Digest));
        Assert.Equal(info.Digest, Digest.Compute(await File.ReadAllBytesAsync(Path.Combine(store.Root, "blobs", "sha256", info.Digest.Hex[..2], info.Digest.Hex[2..4], info.Digest.Hex, "data"))));
        Assert.Equal(content.Length, seeder.Stats.PieceBytesSent);
        output.WriteLine($"32 MiB seeder -> leecher on loopback: {watch.ElapsedMilliseconds} ms ({content.Length / watch.Elapsed.TotalSeconds / (1024 * 1024):0} MiB/s)");
    }

    [Fact]
    public async Task Ticks_FastWhileDownloadingOrOfferingToAgents_SlowWhenOnlySeeding()
    {
        var content = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        await using var seeder = StartSeeder(info, path);
        var store = new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, "store") });
        // Throttled to about 3 s, so that the download is still running when it is looked at.
        var leecher = StartLeecher(seeder, store, new P2POptions { IngressLimit = 1536 * 1024 });
        await using var stopLeecher = leecher;
        var fast = TimeSpan.FromMilliseconds(200);
        var slow = TimeSpan.FromSeconds(1);

        var download = await leecher.DownloadAsync(info, null, CancellationToken.None);
        var downloading = leecher.SwarmFor(info.InfoHash)!;
        Assert.Equal(fast, downloading.TickPeriod);

        // The origin offers pieces to the agent it serves: its swarm keeps the fast pace meanwhile.
        Swarm? origin = null;
        await Poll.UntilAsync(() => (origin = seeder.Stats.PieceBytesSent > 0 ? seeder.SwarmFor(info.InfoHash) : null) is not null, timeoutSeconds: 10);
        Assert.False(download.Completion.IsCompleted);
        Assert.True(origin!.SuperSeeding);
        Assert.Equal(fast, origin.TickPeriod);

        await download.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        // Complete: the agent's swarm only seeds now.
        await Poll.UntilAsync(() => downloading.TickPeriod == slow, timeoutSeconds: 10);

        // Once the agent has gone, so has the origin's reason to hurry.
        await leecher.DisposeAsync();
        await Poll.UntilAsync(() => origin.TickPeriod == slow, timeoutSeconds: 10);
    }

    [Fact]
    public async Task Seed_OriginWithTwoAgents_OffersFewPiecesAtATimeAndEverythingToALoneAgent()
    {
        var content = TestData.RandomBytes(4 * 1024 * 1024, 7);
        var info = TestData.MetaInfoFor(content, 256 * 1024);
        var path = await WriteSeedFileAsync(content);
        await using var seeder = StartSeeder(info, path);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var token = timeout.Token;

        // The first agent is offered a few pieces; left alone with the origin for a while, it is told it has everything.
        await using var first = await GreetAsync(seeder.LocalEndPoint!.Port, info, token);
        var firstOffers = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            var message = (await first.ReadMessageAsync(token))!.Value;
            Assert.Equal(MessageType.HavePiece, message.Type);
            firstOffers.Add(message.PieceIndex);
        }
        Assert.Equal(4, firstOffers.Distinct().Count());
        Assert.Equal(MessageType.Complete, (await first.ReadMessageAsync(token))!.Value.Type);

        // The second is offered a few distinct pieces by HavePiece.
        await using var second = await GreetAsync(seeder.LocalEndPoint!.Port, info, token);
        var offered = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            var message = (await second.ReadMessageAsync(token))!.Value;
            Assert.Equal(MessageType.HavePiece, message.Type);
            offered.Add(message.PieceIndex);
        }
        Assert.Equal(4, offered.Distinct().Count());

        // Once an offered piece is sent, another one is offered.
        await second.WriteAsync(new RequestMessage(offered[0], 0, info.PieceSize(offered[0])), token);
        var piece = (await second.ReadMessageAsync(token))!.Value;
        Assert.Equal(MessageType.Piece, piece.Type);
        Assert.Equal(offered[0], piece.PieceIndex);
        var next = (await second.ReadMessageAsync(token))!.Value;
        Assert.Equal(MessageType.HavePiece, next.Type);
        Assert.DoesNotContain(next.PieceIndex, offered);
    }

    [Fact]
    public async Task Seed_Origin_OffersLeastSentPiecesFirst_LowestIndexAmongEquals()
    {
        // 16 pieces of one block each. The origin's clock is fake and never moves: no agent is ever
        // "alone" long enough to be offered the whole blob, so every offer is a choice.
        var content = TestData.RandomBytes(16 * 64 * 1024, 9);
        var info = TestData.MetaInfoFor(content, 64 * 1024);
        var path = await WriteSeedFileAsync(content);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var seeder = new PeerEngine(new P2POptions(), new PeerEngineSetup { IsOrigin = true, Seeds = new FileSeeds(info, path), TimeProvider = time });
        seeder.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var token = timeout.Token;
        var port = seeder.LocalEndPoint!.Port;

        // Nothing sent or offered yet: the first agent gets the front of the blob, in order.
        await using var a = await GreetAsync(port, info, token);
        Assert.Equal([0, 1, 2, 3], await ReadOffersAsync(a, 4, token));

        // Pieces 0-3 are open offers now: the next agent gets the next ones.
        await using var b = await GreetAsync(port, info, token);
        Assert.Equal([4, 5, 6, 7], await ReadOffersAsync(b, 4, token));

        // Piece 2 sent once: its offer closes and the least-sent piece with the lowest index replaces it.
        await a.WriteAsync(new RequestMessage(2, 0, info.PieceSize(2)), token);
        var piece = (await a.ReadMessageAsync(token))!.Value;
        Assert.Equal(MessageType.Piece, piece.Type);
        Assert.Equal(2, piece.PieceIndex);
        Assert.Equal([8], await ReadOffersAsync(a, 1, token));

        await using var c = await GreetAsync(port, info, token);
        Assert.Equal([9, 10, 11, 12], await ReadOffersAsync(c, 4, token));

        // Three pieces are left unoffered, and D gets only those: until every piece was sent once, no
        // piece is offered twice (its second copy would delay another's first). Its request is
        // answered with the piece, not with a fourth offer.
        await using var d = await GreetAsync(port, info, token);
        Assert.Equal([13, 14, 15], await ReadOffersAsync(d, 3, token));
        await RequestPiecesAsync(d, [13], info, token);

        // Every piece sent once: each agent is told the origin has everything.
        await RequestPiecesAsync(a, [0, 1, 3, 8], info, token);
        await RequestPiecesAsync(b, [4, 5, 6, 7], info, token);
        await RequestPiecesAsync(c, [9, 10, 11, 12], info, token);
        await RequestPiecesAsync(d, [14, 15], info, token);
        foreach (var agent in new[] { a, b, c, d })
        {
            Assert.Equal(MessageType.Complete, (await agent.ReadMessageAsync(token))!.Value.Type);
        }

        // A newcomer is offered the least-sent pieces, never those it has: E has 1 and 2.
        var has = new Bitfield(info.PieceCount);
        has.Set(1);
        has.Set(2);
        await using var e = await GreetAsync(port, info, token, has);
        Assert.Equal([0, 3, 4, 5], await ReadOffersAsync(e, 4, token));
    }

    /// <summary>Requests each piece in turn and checks the next message is that piece.</summary>
    private static async Task RequestPiecesAsync(PeerConnection connection, int[] pieces, MetaInfo info, CancellationToken token)
    {
        foreach (var index in pieces)
        {
            await connection.WriteAsync(new RequestMessage(index, 0, info.PieceSize(index)), token);
            var piece = (await connection.ReadMessageAsync(token))!.Value;
            Assert.Equal(MessageType.Piece, piece.Type);
            Assert.Equal(index, piece.PieceIndex);
        }
    }

    private static async Task<List<int>> ReadOffersAsync(PeerConnection connection, int count, CancellationToken token)
    {
        var offers = new List<int>();
        for (var i = 0; i < count; i++)
        {
            var message = (await connection.ReadMessageAsync(token))!.Value;
            Assert.Equal(MessageType.HavePiece, message.Type);
            offers.Add(message.PieceIndex);
        }
        return offers;
    }

    [Fact]
    public async Task Download_ReaderStreamingIt_GetsTheWholeBlob_LastBytesOnlyOnceTheWholeDigestMatched()
    {
        // 12 MiB in 64 KiB pieces: the reader follows the download piece by piece.
        var content = RandomNumberGenerator.GetBytes(12 * 1024 * 1024 + 4321);
        var (info, path) = await WriteBlobAsync(content);
        await using var seeder = StartSeeder(info, path);
        var store = new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, "store") });
        await using var leecher = StartLeecher(seeder, store);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var download = await leecher.DownloadAsync(info, "team/app", timeout.Token);
        await using var stream = download.OpenRead(0, info.Length);
        var received = new MemoryStream();
        var buffer = new byte[100_000];
        int read;
        while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
        {
            if (received.Length + read == info.Length)
            {
                Assert.True(download.WholeBlobVerified.IsCompletedSuccessfully, "the last bytes came before the whole digest was checked");
            }
            received.Write(buffer, 0, read);
        }

        Assert.Equal(content, received.ToArray());
        var result = await download.Completion.WaitAsync(timeout.Token);
        Assert.Equal(info.Digest, result.Digest);
        Assert.True(store.Contains(info.Digest));
    }

    [Fact]
    public async Task Download_AgentPeerIsToldOnlyOfPiecesItLacks()
    {
        // A scripted agent peer holds the first half of the blob and serves it; the origin has the
        // rest. Announcing a piece to a peer that announced it itself would carry nothing: the peer
        // must hear of exactly the pieces it lacks.
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        Assert.True(info.PieceCount >= 4);
        await using var origin = StartSeeder(info, path);
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var held = new Bitfield(info.PieceCount);
        for (var i = 0; i < info.PieceCount / 2; i++)
        {
            held.Set(i);
        }
        // The origin is handed out only once the agent knows our pieces (it asked us for one): a piece
        // stored before a peer's bitfield arrived is announced to it whatever it holds.
        var scripted = new PeerAddress("127.0.0.1", ((System.Net.IPEndPoint)listener.LocalEndpoint).Port, IsOrigin: false);
        var announcer = new FakeAnnouncer(scripted) { Interval = TimeSpan.FromMilliseconds(100) };
        await using var agent = StartAgent("agent", announcer);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var token = timeout.Token;
        var download = await agent.DownloadAsync(info, null, token);

        await using var peer = await AnswerAsync(await listener.AcceptSocketAsync(token), info, held, token);
        var told = new List<int>();
        var served = 0;
        while (await peer.ReadMessageAsync(token) is { Type: not MessageType.Complete } message)
        {
            if (message.Type == MessageType.HavePiece)
            {
                told.Add(message.PieceIndex);
            }
            else if (message.Type == MessageType.Request)
            {
                var start = (int)info.PieceOffset(message.PieceIndex) + message.Offset;
                await peer.WritePieceAsync(message.PieceIndex, message.Offset, content.AsMemory(start, message.Length), token);
                if (served++ == 0)
                {
                    announcer.Peers = [scripted, new PeerAddress("127.0.0.1", origin.LocalEndPoint!.Port, IsOrigin: true)];
                }
            }
        }
        await download.Completion.WaitAsync(token);

        output.WriteLine($"served {served} blocks; told of {told.Count} pieces");
        Assert.True(served > 0, "the agent took nothing from its agent peer");
        Assert.Equal(Enumerable.Range(info.PieceCount / 2, info.PieceCount - (info.PieceCount / 2)), told.Order());
    }

    [Fact]
    public async Task Download_OriginHearsOnlyOfOfferedPiecesThatCameFromElsewhere()
    {
        // Origins only seed: a Have matters to one only when it closes an open offer. A scripted
        // origin offers pieces 1 and 2 and never sends them; an agent peer has everything. The
        // origin must hear of exactly those two pieces (the agent got them elsewhere), not of every
        // piece, and an offer of a piece the agent already holds is answered with a Have.
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        Assert.True(info.PieceCount >= 4);
        await using var full = new PeerEngine(new P2POptions(), new PeerEngineSetup { Seeds = new FileSeeds(info, path) });
        full.Start();
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var origin = new PeerAddress("127.0.0.1", ((System.Net.IPEndPoint)listener.LocalEndpoint).Port, IsOrigin: true);
        var announcer = new FakeAnnouncer(origin) { Interval = TimeSpan.FromMilliseconds(100) };
        await using var agent = StartAgent("agent", announcer);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var token = timeout.Token;
        var download = await agent.DownloadAsync(info, null, token);

        await using var scripted = await AnswerAsync(await listener.AcceptSocketAsync(token), info, new Bitfield(info.PieceCount), token, PeerFlags.Origin);
        await scripted.WriteAsync(new HavePieceMessage(1), token);
        while (await scripted.ReadMessageAsync(token) is { } request && !(request.Type == MessageType.Request && request.PieceIndex == 1))
        {
        }
        await scripted.WriteAsync(new HavePieceMessage(2), token);
        announcer.Peers = [origin, new PeerAddress("127.0.0.1", full.LocalEndPoint!.Port, IsOrigin: false, full.PeerId)];
        var told = new List<int>();
        while (await scripted.ReadMessageAsync(token) is { Type: not MessageType.Complete } message)
        {
            if (message.Type == MessageType.HavePiece)
            {
                told.Add(message.PieceIndex);
            }
        }
        await download.Completion.WaitAsync(token);
        output.WriteLine($"the origin heard of pieces [{string.Join(", ", told)}] of {info.PieceCount}; the agent peer sent {full.Stats.PieceBytesSent} bytes");
        Assert.Equal([1, 2], told.Order());

        var last = info.PieceCount - 1;
        await scripted.WriteAsync(new HavePieceMessage(last), token);
        MessageType type;
        int index;
        do
        {
            var message = (await scripted.ReadMessageAsync(token))!.Value;
            (type, index) = (message.Type, message.PieceIndex);
        }
        while (type == MessageType.KeepAlive);
        Assert.Equal((MessageType.HavePiece, last), (type, index));
    }

    [Fact]
    public async Task Download_PeerWithPlentyToAskOfUs_HearsOfNewPiecesTogether_WithinTheHoldTime()
    {
        // 128 pieces of 64 KiB; the agent's clock is fake and moves only when the test moves it. A
        // scripted seed serves 40 pieces; a scripted watcher holds nothing and listens for Haves.
        var content = TestData.RandomBytes(128 * 64 * 1024, 11);
        var info = TestData.MetaInfoFor(content, 64 * 1024);
        using var seedListener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        using var watchListener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        seedListener.Start();
        watchListener.Start();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var announcer = new FakeAnnouncer(
            new PeerAddress("127.0.0.1", ((System.Net.IPEndPoint)watchListener.LocalEndpoint).Port, IsOrigin: false),
            new PeerAddress("127.0.0.1", ((System.Net.IPEndPoint)seedListener.LocalEndpoint).Port, IsOrigin: false));
        await using var agent = new PeerEngine(new P2POptions(), new PeerEngineSetup
        {
            Store = new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, "store") }),
            Partials = new PartialStore(Path.Combine(_root, "partial")),
            Announcer = announcer,
            TimeProvider = time,
        });
        agent.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var token = timeout.Token;
        var seedAccept = seedListener.AcceptSocketAsync(token).AsTask();
        _ = await agent.DownloadAsync(info, null, token);

        // The watcher is greeted first, so the agent knows it lacks everything before any piece arrives.
        await using var watcher = await AnswerAsync(await watchListener.AcceptSocketAsync(token), info, new Bitfield(info.PieceCount), token);
        var told = new System.Collections.Concurrent.ConcurrentQueue<int>();
        _ = Task.Run(async () =>
        {
            while (await watcher.ReadMessageAsync(token) is { } message)
            {
                if (message.Type == MessageType.HavePiece)
                {
                    told.Enqueue(message.PieceIndex);
                }
            }
        }, token);
        await Task.Delay(200, token);
        var all = new Bitfield(info.PieceCount);
        all.SetAll();
        await using var seed = await AnswerAsync(await seedAccept, info, all, token);
        var served = new HashSet<int>();
        while (served.Count < 40 && await seed.ReadMessageAsync(token) is { } request)
        {
            if (request.Type == MessageType.Request)
            {
                await seed.WritePieceAsync(request.PieceIndex, request.Offset, content.AsMemory((int)info.PieceOffset(request.PieceIndex) + request.Offset, request.Length), token);
                served.Add(request.PieceIndex);
            }
        }

        // The first 31 pieces are announced as they are stored: until then the watcher could ask us
        // for fewer than 32. The rest wait for the hold time, which never passes on a frozen clock.
        while (agent.Stats.PiecesVerified < 40 || told.Count < 31)
        {
            await Task.Delay(20, token);
        }
        await Task.Delay(300, token);
        var before = told.Count;
        output.WriteLine($"heard of {before} of 40 stored pieces before the hold time passed");
        Assert.InRange(before, 31, 39);

        time.Advance(TimeSpan.FromMilliseconds(50));
        while (told.Count < 40)
        {
            await Task.Delay(20, token);
        }
        await Task.Delay(100, token);
        Assert.Equal(served.Order(), told.Order());
    }

    /// <summary>Answers a connection the agent dialled: reads its handshake, sends ours (an agent's, or <paramref name="flags"/>) holding <paramref name="pieces"/>.</summary>
    private static async Task<PeerConnection> AnswerAsync(System.Net.Sockets.Socket socket, MetaInfo info, Bitfield pieces, CancellationToken token, PeerFlags flags = PeerFlags.None)
    {
        var connection = new PeerConnection(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
        Assert.Equal(MessageType.Handshake, (await connection.ReadMessageAsync(token))!.Value.Type);
        await connection.WriteAsync(HandshakeMessage.For(info, PeerId.NewRandom(), null, flags), token);
        connection.Reader.BindTo(info);
        await connection.WriteAsync(new BitfieldMessage(pieces), token);
        return connection;
    }

    private static async Task<PeerConnection> GreetAsync(int port, MetaInfo info, CancellationToken token, Bitfield? have = null)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port, token);
        var connection = new PeerConnection(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
        await connection.WriteAsync(HandshakeMessage.For(info, PeerId.NewRandom(), null), token);
        var hello = (await connection.ReadMessageAsync(token))!.Value;
        Assert.True(hello.Handshake.IsOrigin);
        connection.Reader.BindTo(info);
        await connection.WriteAsync(new BitfieldMessage(have ?? new Bitfield(info.PieceCount)), token);
        var bitfield = (await connection.ReadMessageAsync(token))!.Value;
        Assert.Equal(MessageType.Bitfield, bitfield.Type);
        var bits = new Bitfield(info.PieceCount);
        bits.ReadFrom(bitfield.Data);
        Assert.True(bits.IsEmpty, "an origin greets an agent with an empty bitfield");
        return connection;
    }

    [Fact]
    public async Task Download_SameBlobTwice_SharesOneDownload()
    {
        var content = RandomNumberGenerator.GetBytes(1024 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        await using var seeder = StartSeeder(info, path);
        await using var leecher = StartLeecher(seeder, new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, "store") }));

        var first = leecher.DownloadAsync(info, null, CancellationToken.None);
        var second = leecher.DownloadAsync(info, null, CancellationToken.None);

        Assert.Same(await first, await second);
        await (await first).Completion.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Announce_HandsOutAPeerThatDialledUs_NoSecondConnection()
    {
        // B dialled A, so A knows B only by B's ephemeral address. When the tracker hands B's listening
        // address to A, B's id must keep A from dialling it again: the duplicate rule would close one of
        // the two connections, with the requests in flight on it.
        var pair = await StartPairAsync();
        await using (pair)
        {
            pair.AnnouncerA.Peers = [pair.Origin, new PeerAddress("127.0.0.1", pair.B.LocalEndPoint!.Port, IsOrigin: false, pair.B.PeerId)];
            var announced = pair.AnnouncerA.Calls;
            await Poll.UntilAsync(() => pair.AnnouncerA.Calls >= announced + 2);

            Assert.Equal(2, pair.A.Stats.ConnectionsOpened);
            Assert.Equal(2, pair.B.Stats.ConnectionsOpened);
            Assert.Equal(2, pair.A.ConnectionCount);
        }
    }

    /// <summary>Dials A and sends B's handshake (B is already connected to A).</summary>
    private static async Task<PeerConnection> HandshakeAsBAsync(AgentPair pair, CancellationToken token)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, pair.A.LocalEndPoint!.Port, token);
        var connection = new PeerConnection(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
        await connection.WriteAsync(HandshakeMessage.For(pair.Info, pair.B.PeerId, null), token);
        return connection;
    }

    [Fact]
    public async Task Incoming_HandshakeOfAPeerAlreadyConnected_RefusedAndTheWorkingConnectionKept()
    {
        var pair = await StartPairAsync();
        await using (pair)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await using var connection = await HandshakeAsBAsync(pair, timeout.Token);
            var answer = (await connection.ReadMessageAsync(timeout.Token))!.Value;

            Assert.Equal(MessageType.Error, answer.Type);
            Assert.Equal(PeerErrorCode.DuplicateConnection, answer.Error.Code);
            Assert.Equal(2, pair.A.Stats.ConnectionsOpened);
            var download = await pair.A.DownloadAsync(pair.Info, null, timeout.Token);
            await download.Completion.WaitAsync(timeout.Token);
        }
    }

    [Fact]
    public async Task Incoming_Refused_PeerStillSending_ReadsTheErrorThenACleanClose_NotAReset()
    {
        var pair = await StartPairAsync();
        await using (pair)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var before = pair.A.ConnectionCount;
            var connection = await HandshakeAsBAsync(pair, timeout.Token);
            var answer = (await connection.ReadMessageAsync(timeout.Token))!.Value;
            Assert.Equal(PeerErrorCode.DuplicateConnection, answer.Error.Code);
            // Until it is closed (by us, or after PeerSockets.CloseGrace), the refused socket keeps its
            // slot in A's connection budget.
            Assert.Equal(before + 1, pair.A.ConnectionCount);

            // A dialler writes its bitfield right behind its handshake, before any answer.
            await PeerAssert.SendsOnThenSeesACleanCloseAsync(connection, pair.Info.PieceCount, timeout.Token);
            await connection.DisposeAsync();
            await Poll.UntilAsync(() => pair.A.ConnectionCount == before);
        }
    }

    [Fact]
    public async Task Endgame_OnlyAgentPeerIsSlow_OriginServesTheLastPieces()
    {
        // Outside endgame an agent takes from an origin only pieces none of its agent peers has; here
        // its one agent peer has everything but uploads slowly. Once every missing piece is
        // requested (endgame), the origin, which has said it holds everything, serves duplicates of
        // the last ones instead of leaving the download to the slow peer.
        var content = RandomNumberGenerator.GetBytes(1024 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        await using var origin = StartSeeder(info, path);
        await using var slow = new PeerEngine(new P2POptions { EgressLimit = 128 * 1024 }, new PeerEngineSetup { Seeds = new FileSeeds(info, path) });
        slow.Start();
        var slowPeer = new PeerAddress("127.0.0.1", slow.LocalEndPoint!.Port, IsOrigin: false, slow.PeerId);
        var announcer = new FakeAnnouncer(slowPeer) { Interval = TimeSpan.FromMilliseconds(100) };
        await using var agent = StartAgent("agent", announcer);

        // The agent knows the slow peer has everything before it meets the origin.
        var download = await agent.DownloadAsync(info, null, CancellationToken.None);
        await Poll.UntilAsync(() => agent.Stats.ConnectionsOpened == 1);
        announcer.Peers = [slowPeer, new PeerAddress("127.0.0.1", origin.LocalEndPoint!.Port, IsOrigin: true)];
        await download.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        output.WriteLine($"origin sent {origin.Stats.PieceBytesSent} bytes, the slow peer {slow.Stats.PieceBytesSent}");
        Assert.True(origin.Stats.PieceBytesSent > 0, "the origin served nothing: the download waited for the slow peer");
        Assert.True(slow.Stats.PieceBytesSent > 0, "the agent peer was not used outside endgame");
    }

    /// <summary>
    /// An origin seeding slowly and two agents downloading from it and from each other: A started
    /// first, announcing only the origin; B's tracker answer names A, so B dials A. Returns once A holds
    /// both connections (the origin's and B's).
    /// </summary>
    private async Task<AgentPair> StartPairAsync()
    {
        var content = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        var seeder = new PeerEngine(new P2POptions { EgressLimit = 1024 * 1024 }, new PeerEngineSetup { IsOrigin = true, Seeds = new FileSeeds(info, path) });
        seeder.Start();
        var origin = new PeerAddress("127.0.0.1", seeder.LocalEndPoint!.Port, IsOrigin: true);
        var announcerA = new FakeAnnouncer(origin) { Interval = TimeSpan.FromMilliseconds(100) };
        var a = StartAgent("a", announcerA);
        await a.DownloadAsync(info, null, CancellationToken.None);
        var b = StartAgent("b", new FakeAnnouncer(origin, new PeerAddress("127.0.0.1", a.LocalEndPoint!.Port, IsOrigin: false, a.PeerId)));
        await b.DownloadAsync(info, null, CancellationToken.None);
        await Poll.UntilAsync(() => a.Stats.ConnectionsOpened == 2 && b.Stats.ConnectionsOpened == 2);
        return new AgentPair(info, origin, seeder, a, announcerA, b);
    }

    /// <summary>An agent engine with its own store and partials under the test's directory, started.</summary>
    private PeerEngine StartAgent(string name, IAnnouncer announcer)
        => StartAgent(new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, name, "store") }), Path.Combine(_root, name, "partial"), announcer);

    private static PeerEngine StartAgent(BlobStore store, string partials, IAnnouncer announcer, P2POptions? options = null)
    {
        var agent = new PeerEngine(options ?? new P2POptions(), new PeerEngineSetup
        {
            Store = store,
            Partials = new PartialStore(partials),
            Announcer = announcer,
        });
        agent.Start();
        return agent;
    }

    private sealed record AgentPair(MetaInfo Info, PeerAddress Origin, PeerEngine Seeder, PeerEngine A, FakeAnnouncer AnnouncerA, PeerEngine B) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await B.DisposeAsync();
            await A.DisposeAsync();
            await Seeder.DisposeAsync();
        }
    }

    [Fact]
    public async Task PartialStore_Reopen_KeepsOnlyPiecesThatStillVerify()
    {
        var content = RandomNumberGenerator.GetBytes(4 * 256 * 1024);
        var info = await MetaInfoOfAsync(content);
        var partials = new PartialStore(Path.Combine(_root, "partial"));
        using (var file = await partials.OpenAsync(info, CancellationToken.None))
        {
            for (var i = 0; i < 3; i++)
            {
                file.WritePiece(i, content.AsSpan((int)info.PieceOffset(i), info.PieceSize(i)));
                file.MarkVerified(i);
            }
            partials.SaveState(file);
        }
        // Damage piece 1 on disk behind the state's back.
        using (var raw = File.OpenHandle(partials.DataPath(info.Digest), FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(raw, new byte[] { 1, 2, 3 }, info.PieceOffset(1) + 10);
        }

        using var reopened = await partials.OpenAsync(info, CancellationToken.None);

        Assert.True(reopened.HasPiece(0));
        Assert.False(reopened.HasPiece(1));
        Assert.True(reopened.HasPiece(2));
        Assert.False(reopened.HasPiece(3));
        Assert.Equal(2, reopened.VerifiedCount);
    }

    [Fact]
    public void Options_Invalid_NameTheKeys()
    {
        var options = new P2POptions { Listen = { Address = "not-an-ip" }, MaxConnectionsPerBlob = 300, MaxConnections = 100, IdleSwarmTimeout = TimeSpan.Zero };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true);
        var members = results.SelectMany(r => r.MemberNames).ToList();
        Assert.Contains(nameof(P2POptions.Listen), members);
        Assert.Contains(nameof(P2POptions.MaxConnectionsPerBlob), members);
        Assert.Contains(nameof(P2POptions.IdleSwarmTimeout), members);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>An origin engine seeding the file at <paramref name="path"/>, started.</summary>
    private static PeerEngine StartSeeder(MetaInfo info, string path, P2POptions? options = null)
    {
        var seeder = new PeerEngine(options ?? new P2POptions(), new PeerEngineSetup { IsOrigin = true, Seeds = new FileSeeds(info, path) });
        seeder.Start();
        return seeder;
    }

    /// <summary>An agent engine storing into <paramref name="store"/> whose only peer is <paramref name="seeder"/>, started.</summary>
    private PeerEngine StartLeecher(PeerEngine seeder, BlobStore store, P2POptions? options = null)
        => StartAgent(store, Path.Combine(_root, "partial"), new FakeAnnouncer(new PeerAddress("127.0.0.1", seeder.LocalEndPoint!.Port, IsOrigin: true)), options);

    private async Task<(MetaInfo Info, string Path)> WriteBlobAsync(byte[] content)
        => (await MetaInfoOfAsync(content), await WriteSeedFileAsync(content));

    /// <summary>Writes <paramref name="content"/> to a new file under the test's directory, for a seeder to serve.</summary>
    private async Task<string> WriteSeedFileAsync(byte[] content)
    {
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, "seed-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(path, content);
        return path;
    }

    private static async Task<MetaInfo> MetaInfoOfAsync(byte[] content)
        => await BlobHasher.ComputeAsync(new MemoryStream(content), content.Length, CancellationToken.None);

    private sealed class FileSeeds(MetaInfo info, string path) : ISeedSource
    {
        public ValueTask<SeedBlob?> FindAsync(Digest digest, string? @namespace, CancellationToken cancellationToken)
            => ValueTask.FromResult<SeedBlob?>(digest == info.Digest
                ? new SeedBlob(info, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous))
                : null);
    }

    private sealed class FakeAnnouncer(params PeerAddress[] peers) : IAnnouncer
    {
        private int _calls;

        /// <summary>What the next announces hand out.</summary>
        public PeerAddress[] Peers { get; set; } = peers;

        public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

        public int Calls => Volatile.Read(ref _calls);

        public Task<AnnounceResult> AnnounceAsync(MetaInfo info, string? @namespace, PeerId self, int port, bool complete, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return Task.FromResult(new AnnounceResult(Peers, Interval));
        }
    }
}
