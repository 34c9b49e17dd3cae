using System.Buffers;
using System.Text;
using Shoal.Core;
using Shoal.P2P.Protocol;

namespace Shoal.P2P.Tests;

public sealed class MessageRoundTripTests
{
    private const int Pieces = 1000;

    [Fact]
    public void Handshake_EncodeThenDecode_AllFieldsSurvive()
    {
        var sent = new HandshakeMessage(1, PeerFlags.Origin, new string('c', 64), Digest.Compute("layer"u8), PeerId.NewRandom(), 12345, "registry.example.com/team/app ✓");
        var reader = new MessageReader();

        var message = DecodeSingle(reader, TestData.Encode(sent));

        Assert.Equal(MessageType.Handshake, message.Type);
        var got = message.Handshake;
        Assert.Equal(sent.Version, got.Version);
        Assert.Equal(PeerFlags.Origin, got.Flags);
        Assert.True(got.IsOrigin);
        Assert.Equal(sent.InfoHash, got.InfoHash);
        Assert.Equal(sent.Digest, got.Digest);
        Assert.Equal(sent.PeerId, got.PeerId);
        Assert.Equal(12345, got.PieceCount);
        Assert.Equal(sent.Namespace, got.Namespace);
        Assert.Equal(MessageReaderState.AwaitingBitfield, reader.State);
        Assert.Equal(12345, reader.PieceCount);
        Assert.Equal(1, reader.NegotiatedVersion);
        Assert.Same(got, reader.RemoteHandshake);
    }

    [Fact]
    public void Handshake_LayoutMatchesTheSpecification()
    {
        var handshake = TestData.Handshake(pieceCount: 0x010203, ns: "ab");

        var bytes = TestData.Encode(handshake);

        Assert.Equal(4 + 1 + 111 + 2, bytes.Length);
        Assert.Equal(new byte[] { 0, 0, 0, 114, 0x01 }, bytes[..5]);
        Assert.Equal("SHOAL"u8.ToArray(), bytes[5..10]);
        Assert.Equal(new byte[] { 0, 1, 0, 0 }, bytes[10..14]);
        Assert.Equal(Convert.FromHexString(handshake.InfoHash), bytes[14..46]);
        Assert.Equal(Convert.FromHexString(handshake.Digest.Hex), bytes[46..78]);
        Assert.Equal(Enumerable.Range(0, 32).Select(i => (byte)i), bytes[78..110]);
        Assert.Equal(new byte[] { 0, 0x01, 0x02, 0x03, 0, 2, (byte)'a', (byte)'b' }, bytes[110..]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(1000)]
    public void Bitfield_EncodeThenDecode_SameBits(int pieceCount)
    {
        var bits = new Bitfield(pieceCount);
        for (var i = 0; i < pieceCount; i += 3)
        {
            bits.Set(i);
        }
        var reader = new MessageReader();
        DecodeSingle(reader, TestData.Encode(TestData.Handshake(pieceCount)));

        var message = DecodeSingle(reader, TestData.Encode(new BitfieldMessage(bits)));

        Assert.Equal(MessageType.Bitfield, message.Type);
        Assert.Equal(bits.WireLength, message.Length);
        var got = new Bitfield(pieceCount);
        got.ReadFrom(message.Data);
        Assert.Equal(bits.ToString(), got.ToString());
        Assert.Equal(MessageReaderState.Open, reader.State);
    }

    [Fact]
    public void HavePiece_EncodeThenDecode_SameIndex()
    {
        var message = DecodeSingle(TestData.OpenReader(Pieces), TestData.Encode(new HavePieceMessage(999)));

        Assert.Equal(MessageType.HavePiece, message.Type);
        Assert.Equal(999, message.PieceIndex);
    }

    [Fact]
    public void Request_EncodeThenDecode_SameBlock()
    {
        var sent = new RequestMessage(7, 1 << 20, ProtocolConstants.MaxBlockLength);

        var message = DecodeSingle(TestData.OpenReader(Pieces), TestData.Encode(sent));

        Assert.Equal(MessageType.Request, message.Type);
        Assert.Equal(sent, message.Request);
    }

    [Fact]
    public void Cancel_EncodeThenDecode_SameBlock()
    {
        var sent = new CancelMessage(0, 0, 1);

        var message = DecodeSingle(TestData.OpenReader(Pieces), TestData.Encode(sent));

        Assert.Equal(MessageType.Cancel, message.Type);
        Assert.Equal(sent, message.Cancel);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16 * 1024)]
    [InlineData(ProtocolConstants.MaxBlockLength)]
    public void Piece_EncodeThenDecode_SameHeaderAndDataWithoutCopy(int length)
    {
        var data = TestData.RandomBytes(length, length);
        var header = new PieceMessage(3, 4096, length);
        var frame = new byte[header.ByteLength];
        header.Encode(frame, data);

        var message = DecodeSingle(TestData.OpenReader(Pieces), frame);

        Assert.Equal(MessageType.Piece, message.Type);
        Assert.Equal(header, message.Piece);
        Assert.Equal(data, message.Data.ToArray());
        Assert.True(message.Data.First.Span.Overlaps(frame), "piece data is a slice of the receive buffer, not a copy");
    }

    [Fact]
    public void CompleteAndKeepAlive_EncodeThenDecode_Type()
    {
        var reader = TestData.OpenReader(Pieces);

        Assert.Equal(MessageType.Complete, DecodeSingle(reader, TestData.Encode(new CompleteMessage())).Type);
        Assert.Equal(MessageType.KeepAlive, DecodeSingle(reader, TestData.Encode(new KeepAliveMessage())).Type);
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0x07 }, TestData.Encode(new CompleteMessage()));
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0x08 }, TestData.Encode(new KeepAliveMessage()));
    }

    [Fact]
    public void Error_EncodeThenDecode_SameCodeAndTextAndReaderCloses()
    {
        var reader = TestData.OpenReader(Pieces);

        var message = DecodeSingle(reader, TestData.Encode(new ErrorMessage(PeerErrorCode.Busy, "too many peers – later")));

        Assert.Equal(MessageType.Error, message.Type);
        Assert.Equal(PeerErrorCode.Busy, message.Error.Code);
        Assert.Equal("too many peers – later", message.Error.Text);
        Assert.Equal(MessageReaderState.Closed, reader.State);
    }

    [Fact]
    public void Error_TextLongerThanLimit_IsCutAtACharacterBoundary()
    {
        var text = new string('x', ProtocolConstants.MaxErrorTextLength - 1) + "€€";

        var error = new ErrorMessage(PeerErrorCode.InternalError, text);
        var message = DecodeSingle(new MessageReader(), TestData.Encode(error));

        Assert.Equal(text[..^2], message.Error.Text);
        Assert.True(Encoding.UTF8.GetByteCount(message.Error.Text) <= ProtocolConstants.MaxErrorTextLength);
    }

    [Fact]
    public void Error_BeforeHandshake_IsAccepted()
    {
        var message = DecodeSingle(new MessageReader(), TestData.Encode(new ErrorMessage(PeerErrorCode.UnknownSwarm, "no such swarm")));

        Assert.Equal(PeerErrorCode.UnknownSwarm, message.Error.Code);
    }

    [Fact]
    public void ManyFrames_InOneSegmentedBuffer_DecodeInOrder()
    {
        var random = new Random(5);
        var bytes = TestData.Concat(
            TestData.Encode(TestData.Handshake(Pieces)),
            TestData.Encode(new BitfieldMessage(new Bitfield(Pieces))),
            TestData.Encode(new HavePieceMessage(1)),
            TestData.Encode(new RequestMessage(2, 0, 100)),
            TestData.Encode(new KeepAliveMessage()),
            TestData.Encode(new CancelMessage(2, 0, 100)),
            TestData.Encode(new CompleteMessage()));
        for (var trial = 0; trial < 200; trial++)
        {
            var reader = new MessageReader();
            var buffer = TestData.Segmented(bytes, random, maxSegments: 12);
            var types = new List<MessageType>();
            while (reader.TryRead(ref buffer, out var message))
            {
                types.Add(message.Type);
            }

            Assert.True(buffer.IsEmpty);
            Assert.Equal(
                [MessageType.Handshake, MessageType.Bitfield, MessageType.HavePiece, MessageType.Request, MessageType.KeepAlive, MessageType.Cancel, MessageType.Complete],
                types);
        }
    }

    internal static PeerMessage DecodeSingle(MessageReader reader, byte[] frame)
    {
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.True(reader.TryRead(ref buffer, out var message));
        Assert.True(buffer.IsEmpty, "the frame is consumed exactly");
        return message;
    }
}
