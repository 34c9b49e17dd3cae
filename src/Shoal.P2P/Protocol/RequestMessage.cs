using System.Buffers.Binary;

namespace Shoal.P2P.Protocol;

/// <summary><c>Request(index, offset, length)</c>: asks for <see cref="Length"/> bytes of piece <see cref="PieceIndex"/> from <see cref="Offset"/>; a whole piece or a range of one, at most <see cref="ProtocolConstants.MaxBlockLength"/> bytes.</summary>
public readonly record struct RequestMessage : IPeerMessage
{
    /// <summary>The payload length: piece index, offset and length, 4 bytes each.</summary>
    public const int PayloadLength = 12;

    public RequestMessage(int pieceIndex, int offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, ProtocolConstants.MaxBlockLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, int.MaxValue - length);
        PieceIndex = pieceIndex;
        Offset = offset;
        Length = length;
    }

    /// <summary>The piece index.</summary>
    public int PieceIndex { get; }

    /// <summary>The offset of the block in the piece, in bytes.</summary>
    public int Offset { get; }

    /// <summary>The length of the block, in bytes (1 to <see cref="ProtocolConstants.MaxBlockLength"/>).</summary>
    public int Length { get; }

    /// <inheritdoc/>
    public MessageType Type => MessageType.Request;

    /// <inheritdoc/>
    public int ByteLength => ProtocolConstants.HeaderLength + PayloadLength;

    /// <inheritdoc/>
    public int Encode(Span<byte> destination)
    {
        var at = Frame.WriteHeader(destination, Type, PayloadLength, ByteLength);
        BinaryPrimitives.WriteUInt32BigEndian(destination[at..], (uint)PieceIndex);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(at + 4)..], (uint)Offset);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(at + 8)..], (uint)Length);
        return ByteLength;
    }
}
