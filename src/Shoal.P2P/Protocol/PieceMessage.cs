using System.Buffers.Binary;

namespace Shoal.P2P.Protocol;

/// <summary>
/// <c>Piece(index, offset, data)</c>: a block of piece data answering a request with the same index,
/// offset and length. This type is the frame's header; the data follows it on the wire and is
/// written separately, so a block goes from the file into the socket buffer without another copy.
/// </summary>
public readonly record struct PieceMessage
{
    /// <summary>The payload bytes before the data: piece index and offset, 4 bytes each.</summary>
    public const int HeaderPayloadLength = 8;

    /// <summary>The frame bytes before the data: the frame header and <see cref="HeaderPayloadLength"/>.</summary>
    public const int HeaderLength = ProtocolConstants.HeaderLength + HeaderPayloadLength;

    public PieceMessage(int pieceIndex, int offset, int dataLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dataLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dataLength, ProtocolConstants.MaxBlockLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, int.MaxValue - dataLength);
        PieceIndex = pieceIndex;
        Offset = offset;
        DataLength = dataLength;
    }

    /// <summary>The piece index.</summary>
    public int PieceIndex { get; }

    /// <summary>The offset of the block in the piece, in bytes.</summary>
    public int Offset { get; }

    /// <summary>The length of the data, in bytes (1 to <see cref="ProtocolConstants.MaxBlockLength"/>).</summary>
    public int DataLength { get; }

    /// <summary>The encoded size of the whole frame including the data, in bytes.</summary>
    public int ByteLength => HeaderLength + DataLength;

    /// <summary>Writes the <see cref="HeaderLength"/> bytes that precede the data; returns <see cref="HeaderLength"/>.</summary>
    public int EncodeHeader(Span<byte> destination)
    {
        var payloadLength = HeaderPayloadLength + DataLength;
        var at = Frame.WriteHeader(destination, MessageType.Piece, payloadLength, HeaderLength);
        BinaryPrimitives.WriteUInt32BigEndian(destination[at..], (uint)PieceIndex);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(at + 4)..], (uint)Offset);
        return HeaderLength;
    }

    /// <summary>Writes the whole frame (header and <paramref name="data"/>); returns <see cref="ByteLength"/>.</summary>
    public int Encode(Span<byte> destination, ReadOnlySpan<byte> data)
    {
        if (data.Length != DataLength)
        {
            throw new ArgumentException($"The piece message carries {DataLength} bytes, got {data.Length}.", nameof(data));
        }
        if (destination.Length < ByteLength)
        {
            throw new ArgumentException($"A piece frame needs {ByteLength} bytes.", nameof(destination));
        }
        EncodeHeader(destination);
        data.CopyTo(destination[HeaderLength..]);
        return ByteLength;
    }
}
