using System.Buffers;
using System.Buffers.Binary;
using Shoal.P2P.Protocol;

namespace Shoal.P2P.Tests;

public sealed class MessageReaderTests
{
    [Fact]
    public void TryRead_PartialFrame_ReturnsFalseAndConsumesNothing()
    {
        var frame = TestData.Encode(new RequestMessage(1, 0, 10));
        var reader = TestData.OpenReader(10);

        for (var cut = 0; cut < frame.Length; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(frame, 0, cut);

            Assert.False(reader.TryRead(ref buffer, out _));
            Assert.Equal(cut, buffer.Length);
        }
    }

    [Fact]
    public void TryRead_PartialFrame_MissingIsWhatTheFrameStillNeeds()
    {
        var frame = TestData.Encode(new RequestMessage(1, 0, 10));
        var reader = TestData.OpenReader(10);

        for (var cut = 0; cut < frame.Length; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(frame, 0, cut);

            Assert.False(reader.TryRead(ref buffer, out _));
            // Before the header is whole only its rest is known to be missing; after it, the whole frame's.
            var expected = cut < ProtocolConstants.HeaderLength ? ProtocolConstants.HeaderLength - cut : frame.Length - cut;
            Assert.Equal(expected, reader.Missing);
        }
    }

    [Theory]
    [InlineData(MessageType.Piece, ProtocolConstants.MaxFrameLength + 1)]
    [InlineData(MessageType.Piece, uint.MaxValue)]
    [InlineData(MessageType.HavePiece, 6)]
    [InlineData(MessageType.Request, 12)]
    [InlineData(MessageType.KeepAlive, 2)]
    [InlineData(MessageType.Error, 1 + 4 + ProtocolConstants.MaxErrorTextLength + 1)]
    [InlineData(MessageType.Bitfield, 1 + 2)]
    public void TryRead_LengthOutOfBounds_ThrowsFromTheHeaderAlone(MessageType type, long length)
    {
        var reader = TestData.OpenReader(10);
        var header = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)length);
        header[4] = (byte)type;
        if (type == MessageType.Bitfield)
        {
            reader = new MessageReader();
            var hs = new ReadOnlySequence<byte>(TestData.Encode(TestData.Handshake(10)));
            Assert.True(reader.TryRead(ref hs, out _));
            header = [0, 0, 0, 4, 0x02];
        }
        var buffer = new ReadOnlySequence<byte>(header);

        var ex = Assert.Throws<ProtocolException>(() => reader.TryRead(ref buffer, out _));

        Assert.Equal(PeerErrorCode.ProtocolViolation, ex.Code);
        Assert.Equal(MessageReaderState.Closed, reader.State);
    }

    [Fact]
    public void TryRead_HandshakeLongerThanLimit_ThrowsFromTheHeaderAlone()
    {
        var header = new byte[] { 0, 0, 0x10, 0x01, 0x01 }; // 4097

        var buffer = new ReadOnlySequence<byte>(header);

        Assert.Throws<ProtocolException>(() => new MessageReader().TryRead(ref buffer, out _));
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x0A)]
    [InlineData(0xFF)]
    public void TryRead_UnknownType_Throws(byte type)
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 1, type });

        Assert.Throws<ProtocolException>(() => TestData.OpenReader(1).TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_ZeroLength_Throws()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 0, 0 });

        Assert.Throws<ProtocolException>(() => TestData.OpenReader(1).TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_AnythingButHandshakeFirst_Throws()
    {
        var buffer = new ReadOnlySequence<byte>(TestData.Encode(new KeepAliveMessage()));

        Assert.Throws<ProtocolException>(() => new MessageReader().TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_NoBitfieldAfterHandshake_Throws()
    {
        var reader = new MessageReader();
        var buffer = new ReadOnlySequence<byte>(TestData.Concat(TestData.Encode(TestData.Handshake(4)), TestData.Encode(new HavePieceMessage(1))));
        Assert.True(reader.TryRead(ref buffer, out _));

        Assert.Throws<ProtocolException>(() => reader.TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_SecondHandshakeOrBitfield_Throws()
    {
        var handshake = new ReadOnlySequence<byte>(TestData.Encode(TestData.Handshake(4)));
        var bitfield = new ReadOnlySequence<byte>(TestData.Encode(new BitfieldMessage(new Bitfield(4))));

        Assert.Throws<ProtocolException>(() => TestData.OpenReader(4).TryRead(ref handshake, out _));
        Assert.Throws<ProtocolException>(() => TestData.OpenReader(4).TryRead(ref bitfield, out _));
    }

    [Fact]
    public void TryRead_FrameAfterError_Throws()
    {
        var reader = TestData.OpenReader(4);
        var buffer = new ReadOnlySequence<byte>(TestData.Concat(TestData.Encode(new ErrorMessage(PeerErrorCode.Shutdown, "bye")), TestData.Encode(new KeepAliveMessage())));
        Assert.True(reader.TryRead(ref buffer, out _));

        Assert.Throws<ProtocolException>(() => reader.TryRead(ref buffer, out _));
    }

    [Theory]
    [InlineData(MessageType.HavePiece, 4, 0, 0)]
    [InlineData(MessageType.Request, 4, 0, 1)]
    [InlineData(MessageType.Request, 0, 0, 0)]
    [InlineData(MessageType.Request, 0, 0, ProtocolConstants.MaxBlockLength + 1)]
    [InlineData(MessageType.Request, 0, -1, 1)]
    [InlineData(MessageType.Request, -1, 0, 1)]
    [InlineData(MessageType.Request, 0, int.MaxValue, 2)]
    [InlineData(MessageType.Cancel, 0, 0, 0)]
    [InlineData(MessageType.Piece, 9, 0, 1)]
    public void TryRead_IndexOrBlockOutOfRange_Throws(MessageType type, int index, int offset, int length)
    {
        var frame = new byte[type switch { MessageType.HavePiece => 9, MessageType.Piece => 13 + length, _ => 17 }];
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        frame[4] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), index);
        if (type != MessageType.HavePiece)
        {
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(9), offset);
        }
        if (type is MessageType.Request or MessageType.Cancel)
        {
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(13), length);
        }
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.Throws<ProtocolException>(() => TestData.OpenReader(4).TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_BitfieldWithSpareBitsSet_Throws()
    {
        var reader = new MessageReader();
        var buffer = new ReadOnlySequence<byte>(TestData.Concat(TestData.Encode(TestData.Handshake(9)), [0, 0, 0, 3, 0x02, 0xFF, 0x40]));
        Assert.True(reader.TryRead(ref buffer, out _));

        Assert.Throws<ProtocolException>(() => reader.TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_HandshakeWithBadMagic_Throws()
    {
        var frame = TestData.Encode(TestData.Handshake(1));
        frame[5] = (byte)'X';
        var buffer = new ReadOnlySequence<byte>(frame);

        var ex = Assert.Throws<ProtocolException>(() => new MessageReader().TryRead(ref buffer, out _));
        Assert.Contains("magic", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_HandshakeWithInvalidUtf8Namespace_Throws()
    {
        var frame = TestData.Encode(TestData.Handshake(1, ns: "ab"));
        frame[^1] = 0xFF;
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.Throws<ProtocolException>(() => new MessageReader().TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_Version1HandshakeWithTrailingBytes_Throws()
    {
        var buffer = new ReadOnlySequence<byte>(WithTrailingBytes(TestData.Encode(TestData.Handshake(1, version: 1)), 3));

        Assert.Throws<ProtocolException>(() => new MessageReader().TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_LaterVersionHandshakeWithExtensionBytes_NegotiatesVersion1()
    {
        var reader = new MessageReader();
        var buffer = new ReadOnlySequence<byte>(WithTrailingBytes(TestData.Encode(TestData.Handshake(5, version: 7)), 40));

        Assert.True(reader.TryRead(ref buffer, out var message));

        Assert.Equal(7, message.Handshake.Version);
        Assert.Equal(1, reader.NegotiatedVersion);
        Assert.Equal(5, reader.PieceCount);
    }

    [Fact]
    public void TryRead_HandshakeVersionZero_Throws()
    {
        var frame = TestData.Encode(TestData.Handshake(1));
        frame[10] = 0;
        frame[11] = 0;
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.Throws<ProtocolException>(() => new MessageReader().TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_HandshakePieceCountAboveLimit_Throws()
    {
        var frame = TestData.Encode(TestData.Handshake(1));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5 + 105), ProtocolConstants.MaxPieceCount + 1);
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.Throws<ProtocolException>(() => new MessageReader().TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_ErrorTextLengthDisagreesWithFrame_Throws()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 7, 0x09, 0, 1, 0, 3, (byte)'a', (byte)'b' });

        Assert.Throws<ProtocolException>(() => new MessageReader().TryRead(ref buffer, out _));
    }

    [Fact]
    public void BindTo_MatchingMetaInfo_ChecksBlocksAgainstPieceSizes()
    {
        var blob = TestData.RandomBytes(2500, 1);
        var info = TestData.MetaInfoFor(blob, 1024);
        var reader = new MessageReader();
        var buffer = new ReadOnlySequence<byte>(TestData.Encode(HandshakeMessage.For(info, PeerId.NewRandom(), "ns")));
        Assert.True(reader.TryRead(ref buffer, out _));
        reader.BindTo(info);
        buffer = new ReadOnlySequence<byte>(TestData.Encode(new BitfieldMessage(new Bitfield(info.PieceCount))));
        Assert.True(reader.TryRead(ref buffer, out _));

        var lastPieceWhole = new ReadOnlySequence<byte>(TestData.Encode(new RequestMessage(2, 0, 452)));
        Assert.True(reader.TryRead(ref lastPieceWhole, out var ok));
        Assert.Equal(452, ok.Length);
        var pastLastPiece = new ReadOnlySequence<byte>(TestData.Encode(new RequestMessage(2, 0, 453)));
        Assert.Throws<ProtocolException>(() => reader.TryRead(ref pastLastPiece, out _));
    }

    [Fact]
    public void BindTo_OtherSwarm_ThrowsSwarmMismatch()
    {
        var info = TestData.MetaInfoFor(TestData.RandomBytes(100, 1), 64);
        var reader = new MessageReader();
        var buffer = new ReadOnlySequence<byte>(TestData.Encode(TestData.Handshake(info.PieceCount)));
        Assert.True(reader.TryRead(ref buffer, out _));

        var ex = Assert.Throws<ProtocolException>(() => reader.BindTo(info));

        Assert.Equal(PeerErrorCode.SwarmMismatch, ex.Code);
    }

    private static byte[] WithTrailingBytes(byte[] frame, int extra)
    {
        var longer = new byte[frame.Length + extra];
        frame.CopyTo(longer, 0);
        BinaryPrimitives.WriteInt32BigEndian(longer, longer.Length - 4);
        return longer;
    }
}
