using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using Shoal.Core.Blobs;

namespace Shoal.P2P.Protocol;

/// <summary>
/// Decodes the inbound direction of one connection: splits a receive buffer into frames, checks
/// every length against the protocol limits before waiting for (or buffering) the payload, enforces
/// the message order (Handshake, then Bitfield, then the rest) and validates piece indexes and block
/// ranges. Piece data and bitfields are not copied: <see cref="PeerMessage.Data"/> is a slice of the
/// buffer. Decoding control messages allocates nothing; only Handshake and Error (once per
/// connection) allocate their strings.
/// </summary>
/// <remarks>Not thread-safe: one reader per connection, driven by one loop.</remarks>
public sealed class MessageReader
{
    private readonly int _localVersion;
    private MetaInfo? _layout;

    /// <summary>Creates the reader of a fresh connection.</summary>
    /// <param name="localVersion">The highest protocol version this side speaks (for tests of version negotiation).</param>
    public MessageReader(int localVersion = ProtocolConstants.CurrentVersion)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(localVersion, ProtocolConstants.MinimumVersion);
        _localVersion = localVersion;
    }

    /// <summary>Where the inbound direction is in the state machine.</summary>
    public MessageReaderState State { get; private set; }

    /// <summary>The peer's handshake, once it arrived.</summary>
    public HandshakeMessage? RemoteHandshake { get; private set; }

    /// <summary>The version both sides speak (the lower of the two highest versions); 0 before the handshake.</summary>
    public int NegotiatedVersion { get; private set; }

    /// <summary>The swarm's piece count as the peer's handshake gave it; 0 before the handshake.</summary>
    public int PieceCount { get; private set; }

    /// <summary>
    /// After <see cref="TryRead"/> returned false: how many more bytes must arrive before the frame at
    /// the start of the buffer is whole (the rest of its header, or of its payload once the header
    /// was read). A transport may use it to be woken only then.
    /// </summary>
    public long Missing { get; private set; }

    /// <summary>
    /// Checks the peer's handshake against our metainfo (throws <see cref="ProtocolException"/> with
    /// <see cref="PeerErrorCode.SwarmMismatch"/> when info hash, digest or piece count differ) and from
    /// then on also checks that every block lies inside its piece.
    /// </summary>
    public void BindTo(MetaInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var handshake = RemoteHandshake ?? throw new InvalidOperationException("no handshake has been received");
        if (!handshake.Matches(info))
        {
            throw new ProtocolException(PeerErrorCode.SwarmMismatch, $"peer's swarm ({handshake.InfoHash}, {handshake.Digest}, {handshake.PieceCount} pieces) differs from ours ({info.InfoHash}, {info.Digest}, {info.PieceCount} pieces)");
        }
        _layout = info;
    }

    /// <summary>
    /// Decodes the next frame at the start of <paramref name="buffer"/>. Returns false when the
    /// buffer does not hold a whole frame yet (nothing consumed); on success slices
    /// <paramref name="buffer"/> past the frame. Throws <see cref="ProtocolException"/> (and no
    /// other exception) for any malformed, oversized or out-of-order frame, as soon as its 5-byte
    /// header shows it, and is then <see cref="MessageReaderState.Closed"/>.
    /// </summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out PeerMessage message)
    {
        message = default;
        if (buffer.Length < ProtocolConstants.HeaderLength)
        {
            Missing = ProtocolConstants.HeaderLength - buffer.Length;
            return false;
        }
        try
        {
            return TryReadCore(ref buffer, out message);
        }
        catch (ProtocolException)
        {
            State = MessageReaderState.Closed;
            throw;
        }
    }

    private bool TryReadCore(ref ReadOnlySequence<byte> buffer, out PeerMessage message)
    {
        message = default;
        uint length;
        byte typeByte;
        var first = buffer.FirstSpan;
        if (first.Length >= ProtocolConstants.HeaderLength)
        {
            length = BinaryPrimitives.ReadUInt32BigEndian(first);
            typeByte = first[4];
        }
        else
        {
            Span<byte> header = stackalloc byte[ProtocolConstants.HeaderLength];
            buffer.Slice(0, ProtocolConstants.HeaderLength).CopyTo(header);
            length = BinaryPrimitives.ReadUInt32BigEndian(header);
            typeByte = header[4];
        }
        var type = CheckHeader(length, typeByte);
        if (buffer.Length - ProtocolConstants.LengthPrefixLength < length)
        {
            Missing = ProtocolConstants.LengthPrefixLength + length - buffer.Length;
            return false;
        }
        var payload = buffer.Slice(ProtocolConstants.HeaderLength, length - 1);
        message = Decode(type, payload);
        buffer = buffer.Slice(ProtocolConstants.LengthPrefixLength + length);
        return true;
    }

    private MessageType CheckHeader(uint length, byte typeByte)
    {
        if (State == MessageReaderState.Closed)
        {
            throw new ProtocolException("frame after an Error message or a protocol violation");
        }
        if (length == 0)
        {
            throw new ProtocolException("frame length 0 (a frame has at least its type byte)");
        }
        if (typeByte < (byte)MessageType.Handshake || typeByte > (byte)MessageType.Error)
        {
            // Version 1 knows types 0x01..0x09; a later version adds types only once negotiated.
            throw new ProtocolException($"unknown message type 0x{typeByte:x2}");
        }
        var type = (MessageType)typeByte;
        var allowed = State switch
        {
            MessageReaderState.AwaitingHandshake => type is MessageType.Handshake or MessageType.Error,
            MessageReaderState.AwaitingBitfield => type is MessageType.Bitfield or MessageType.Error,
            _ => type is not (MessageType.Handshake or MessageType.Bitfield),
        };
        if (!allowed)
        {
            throw new ProtocolException($"{type} not allowed while {State}");
        }
        var (min, max) = type switch
        {
            MessageType.Handshake => (1 + HandshakeMessage.FixedPayloadLength, ProtocolConstants.MaxHandshakeFrameLength),
            MessageType.Bitfield => Exactly(1 + Bitfield.WireLengthFor(PieceCount)),
            MessageType.HavePiece => Exactly(1 + HavePieceMessage.PayloadLength),
            MessageType.Request => Exactly(1 + RequestMessage.PayloadLength),
            MessageType.Cancel => Exactly(1 + CancelMessage.PayloadLength),
            MessageType.Piece => (1 + PieceMessage.HeaderPayloadLength + 1, ProtocolConstants.MaxFrameLength),
            MessageType.Error => (1 + ErrorMessage.FixedPayloadLength, 1 + ErrorMessage.FixedPayloadLength + ProtocolConstants.MaxErrorTextLength),
            _ => Exactly(1),
        };
        if (length < (uint)min || length > (uint)max)
        {
            throw new ProtocolException(min == max
                ? $"{type} frame length {length}, must be {min}"
                : $"{type} frame length {length} outside [{min}, {max}]");
        }
        return type;

        static (int, int) Exactly(int value) => (value, value);
    }

    private PeerMessage Decode(MessageType type, ReadOnlySequence<byte> payload)
    {
        switch (type)
        {
            case MessageType.Handshake:
                return DecodeHandshake(payload);
            case MessageType.Bitfield:
                CheckBitfield(payload);
                State = MessageReaderState.Open;
                return new PeerMessage(type, 0, 0, (int)payload.Length, payload, null);
            case MessageType.HavePiece:
            {
                var reader = new SequenceReader<byte>(payload);
                reader.TryReadBigEndian(out int index);
                CheckIndex(type, index);
                return new PeerMessage(type, index, 0, 0, default, null);
            }
            case MessageType.Request:
            case MessageType.Cancel:
            {
                var reader = new SequenceReader<byte>(payload);
                reader.TryReadBigEndian(out int index);
                reader.TryReadBigEndian(out int offset);
                reader.TryReadBigEndian(out int length);
                CheckBlock(type, index, offset, length);
                return new PeerMessage(type, index, offset, length, default, null);
            }
            case MessageType.Piece:
            {
                var reader = new SequenceReader<byte>(payload);
                reader.TryReadBigEndian(out int index);
                reader.TryReadBigEndian(out int offset);
                var length = (int)payload.Length - PieceMessage.HeaderPayloadLength;
                CheckBlock(type, index, offset, length);
                return new PeerMessage(type, index, offset, length, payload.Slice(PieceMessage.HeaderPayloadLength), null);
            }
            case MessageType.Error:
                return DecodeError(payload);
            default:
                // Complete and KeepAlive have no payload (checked with the header).
                return new PeerMessage(type, 0, 0, 0, default, null);
        }
    }

    private PeerMessage DecodeHandshake(in ReadOnlySequence<byte> payload)
    {
        var handshake = HandshakeMessage.Decode(payload);
        var negotiated = Math.Min(handshake.Version, _localVersion);
        if (negotiated < ProtocolConstants.MinimumVersion)
        {
            throw new ProtocolException(PeerErrorCode.UnsupportedVersion, $"peer speaks up to version {handshake.Version}, we need at least {ProtocolConstants.MinimumVersion}");
        }
        RemoteHandshake = handshake;
        NegotiatedVersion = negotiated;
        PieceCount = handshake.PieceCount;
        State = MessageReaderState.AwaitingBitfield;
        return new PeerMessage(MessageType.Handshake, 0, 0, 0, default, handshake);
    }

    private PeerMessage DecodeError(in ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        reader.TryReadBigEndian(out short code);
        reader.TryReadBigEndian(out short textLength);
        if ((ushort)textLength != payload.Length - ErrorMessage.FixedPayloadLength)
        {
            throw new ProtocolException($"Error text length {(ushort)textLength} disagrees with the frame");
        }
        var textBytes = payload.Slice(ErrorMessage.FixedPayloadLength);
        string text;
        if (textBytes.IsSingleSegment)
        {
            text = DecodeText(textBytes.FirstSpan);
        }
        else
        {
            Span<byte> copy = stackalloc byte[(int)textBytes.Length];
            textBytes.CopyTo(copy);
            text = DecodeText(copy);
        }
        State = MessageReaderState.Closed;
        return new PeerMessage(MessageType.Error, (ushort)code, 0, 0, default, text);

        static string DecodeText(ReadOnlySpan<byte> bytes)
            => Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : throw new ProtocolException("Error text is not valid UTF-8");
    }

    private void CheckBitfield(in ReadOnlySequence<byte> payload)
    {
        var used = PieceCount & 7;
        if (used == 0)
        {
            return;
        }
        Span<byte> last = stackalloc byte[1];
        payload.Slice(payload.Length - 1, 1).CopyTo(last);
        if ((last[0] & (0xFF >> used)) != 0)
        {
            throw new ProtocolException("bitfield has spare bits set");
        }
    }

    private void CheckIndex(MessageType type, int index)
    {
        if ((uint)index >= (uint)PieceCount)
        {
            throw new ProtocolException($"{type} piece index {(uint)index} out of range [0, {PieceCount})");
        }
    }

    private void CheckBlock(MessageType type, int index, int offset, int length)
    {
        CheckIndex(type, index);
        if (offset < 0)
        {
            throw new ProtocolException($"{type} offset {(uint)offset} is too large");
        }
        if (length <= 0 || length > ProtocolConstants.MaxBlockLength)
        {
            throw new ProtocolException($"{type} length {(uint)length} outside [1, {ProtocolConstants.MaxBlockLength}]");
        }
        var pieceSize = _layout?.PieceSize(index) ?? int.MaxValue;
        if (offset > pieceSize - length)
        {
            throw new ProtocolException($"{type} block [{offset}, {(long)offset + length}) runs past the end of piece {index} ({pieceSize} bytes)");
        }
    }
}
