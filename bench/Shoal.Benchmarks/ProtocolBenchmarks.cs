using System.Buffers;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.P2P;
using Shoal.P2P.Protocol;

namespace Shoal.Benchmarks;

/// <summary>
/// Encoding and decoding of peer protocol frames, per message (each benchmark handles a batch of
/// <see cref="Batch"/> frames). Control messages (HavePiece, Request, Cancel, Complete, KeepAlive)
/// and the header of a Piece message must allocate nothing: the Allocated column must read 0 B
/// (or "-"). Only the handshake, once per connection, allocates.
/// </summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    /// <summary>Frames per benchmark invocation.</summary>
    public const int Batch = 64;

    private const int PieceCount = 1000;
    private const int PieceLength = 256 * 1024;
    private const int BlockLength = 16 * 1024;

    private readonly byte[] _out = new byte[Batch * 32];
    private MetaInfo _info = null!;
    private PeerId _peerId;
    private byte[] _handshakeAndBitfield = [];
    private byte[] _requests = [];
    private byte[] _haves = [];
    private byte[] _mixedControl = [];
    private byte[] _pieces = [];
    private MessageReader _reader = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Encoding never hashes: random chaining values do, the last one standing for the digest.
        var chain = new byte[PieceCount * SHA256.HashSizeInBytes];
        new Random(2).NextBytes(chain);
        _info = new MetaInfo(Digest.FromSha256(chain.AsSpan(chain.Length - SHA256.HashSizeInBytes)), (long)PieceCount * PieceLength, PieceLength, chain);
        _peerId = PeerId.NewRandom();

        var handshake = HandshakeMessage.For(_info, _peerId, "bench/blob");
        var bitfield = new Bitfield(PieceCount);
        for (var i = 0; i < PieceCount; i += 3)
        {
            bitfield.Set(i);
        }
        _handshakeAndBitfield = Frames(handshake, new BitfieldMessage(bitfield));

        _requests = Frames(Enumerable.Range(0, Batch).Select(i => (IPeerMessage)new RequestMessage(i * 7 % PieceCount, 0, PieceLength)));
        _haves = Frames(Enumerable.Range(0, Batch).Select(i => (IPeerMessage)new HavePieceMessage(i * 7 % PieceCount)));
        _mixedControl = Frames(Enumerable.Range(0, Batch).Select(i => (i % 5) switch
        {
            0 => (IPeerMessage)new RequestMessage(i, BlockLength, BlockLength),
            1 => new HavePieceMessage(i),
            2 => new CancelMessage(i, 0, BlockLength),
            3 => new KeepAliveMessage(),
            _ => new CompleteMessage(),
        }));

        // Piece frames carrying 16 KiB blocks: decoding reads the header and slices the data.
        var block = new byte[BlockLength];
        using var pieces = new MemoryStream();
        for (var i = 0; i < Batch; i++)
        {
            var header = new byte[PieceMessage.HeaderLength];
            new PieceMessage(i, (i % 16) * BlockLength, BlockLength).EncodeHeader(header);
            pieces.Write(header);
            pieces.Write(block);
        }
        _pieces = pieces.ToArray();

        // A reader past the handshake and the bitfield, bound to the swarm: the state of every
        // connection once it is set up.
        _reader = new MessageReader();
        var setup = new ReadOnlySequence<byte>(_handshakeAndBitfield);
        if (!_reader.TryRead(ref setup, out _))
        {
            throw new InvalidOperationException("the handshake did not decode");
        }
        _reader.BindTo(_info);
        if (!_reader.TryRead(ref setup, out _) || _reader.State != MessageReaderState.Open)
        {
            throw new InvalidOperationException("the bitfield did not decode");
        }
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int EncodeRequest()
    {
        var at = 0;
        for (var i = 0; i < Batch; i++)
        {
            at += new RequestMessage(i, 0, PieceLength).Encode(_out.AsSpan(at));
        }
        return at;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int EncodeHavePiece()
    {
        var at = 0;
        for (var i = 0; i < Batch; i++)
        {
            at += new HavePieceMessage(i).Encode(_out.AsSpan(at));
        }
        return at;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int EncodePieceHeader()
    {
        var at = 0;
        for (var i = 0; i < Batch; i++)
        {
            at += new PieceMessage(i, 0, BlockLength).EncodeHeader(_out.AsSpan(at));
        }
        return at;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int DecodeRequest() => DecodeAll(_requests);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int DecodeHavePiece() => DecodeAll(_haves);

    /// <summary>Request, HavePiece, Cancel, KeepAlive and Complete in turn.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int DecodeMixedControl() => DecodeAll(_mixedControl);

    /// <summary>Piece frames with 16 KiB blocks (the data is sliced, not copied).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int DecodePieceHeader() => DecodeAll(_pieces);

    /// <summary>Once per connection, for comparison: encode our handshake, decode the peer's and bind it.</summary>
    [Benchmark]
    public int HandshakeRoundTrip()
    {
        var handshake = HandshakeMessage.For(_info, _peerId, "bench/blob");
        var written = handshake.Encode(_out);
        var reader = new MessageReader();
        var sequence = new ReadOnlySequence<byte>(_out, 0, written);
        if (!reader.TryRead(ref sequence, out var message))
        {
            throw new InvalidOperationException("the handshake did not decode");
        }
        reader.BindTo(_info);
        return message.Handshake.PieceCount;
    }

    private int DecodeAll(byte[] frames)
    {
        var sequence = new ReadOnlySequence<byte>(frames);
        var sum = 0;
        while (_reader.TryRead(ref sequence, out var message))
        {
            sum += message.PieceIndex + message.Length;
        }
        return sum;
    }

    private static byte[] Frames(params IEnumerable<IPeerMessage> messages)
    {
        using var stream = new MemoryStream();
        foreach (var message in messages)
        {
            var frame = new byte[message.ByteLength];
            message.Encode(frame);
            stream.Write(frame);
        }
        return stream.ToArray();
    }
}
