using System.Buffers.Binary;

namespace Shoal.P2P.Protocol;

/// <summary><c>HavePiece(index)</c>: the sender has verified and stored piece <see cref="PieceIndex"/>.</summary>
public readonly record struct HavePieceMessage : IPeerMessage
{
    /// <summary>The payload length: a 4-byte piece index.</summary>
    public const int PayloadLength = 4;

    public HavePieceMessage(int pieceIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceIndex);
        PieceIndex = pieceIndex;
    }

    /// <summary>The piece index.</summary>
    public int PieceIndex { get; }

    /// <inheritdoc/>
    public MessageType Type => MessageType.HavePiece;

    /// <inheritdoc/>
    public int ByteLength => ProtocolConstants.HeaderLength + PayloadLength;

    /// <inheritdoc/>
    public int Encode(Span<byte> destination)
    {
        var at = Frame.WriteHeader(destination, Type, PayloadLength, ByteLength);
        BinaryPrimitives.WriteUInt32BigEndian(destination[at..], (uint)PieceIndex);
        return ByteLength;
    }
}
