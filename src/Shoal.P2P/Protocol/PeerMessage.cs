using System.Buffers;

namespace Shoal.P2P.Protocol;

/// <summary>
/// One decoded message, as <see cref="MessageReader"/> yields it. A struct that refers into the
/// receive buffer: <see cref="Data"/> is valid only until the buffer is advanced (for
/// <see cref="PeerConnection"/>, until the next read).
/// </summary>
public readonly struct PeerMessage
{
    private readonly object? _reference;

    internal PeerMessage(MessageType type, int pieceIndex, int offset, int length, ReadOnlySequence<byte> data, object? reference)
    {
        Type = type;
        PieceIndex = pieceIndex;
        Offset = offset;
        Length = length;
        Data = data;
        _reference = reference;
    }

    /// <summary>The message type.</summary>
    public MessageType Type { get; }

    /// <summary>The piece index of a HavePiece, Request, Piece or Cancel message.</summary>
    public int PieceIndex { get; }

    /// <summary>The block offset of a Request, Piece or Cancel message.</summary>
    public int Offset { get; }

    /// <summary>The block length of a Request or Cancel message, the data length of a Piece message, the byte length of a Bitfield.</summary>
    public int Length { get; }

    /// <summary>The block of a Piece message or the wire bytes of a Bitfield; empty otherwise. Not a copy: valid until the buffer is advanced.</summary>
    public ReadOnlySequence<byte> Data { get; }

    /// <summary>The handshake of a Handshake message.</summary>
    public HandshakeMessage Handshake => Type == MessageType.Handshake ? (HandshakeMessage)_reference! : throw WrongType(MessageType.Handshake);

    /// <summary>The error of an Error message.</summary>
    public ErrorMessage Error => Type == MessageType.Error ? new ErrorMessage((PeerErrorCode)PieceIndex, (string?)_reference) : throw WrongType(MessageType.Error);

    /// <summary>The request of a Request message.</summary>
    public RequestMessage Request => Type == MessageType.Request ? new RequestMessage(PieceIndex, Offset, Length) : throw WrongType(MessageType.Request);

    /// <summary>The cancel of a Cancel message.</summary>
    public CancelMessage Cancel => Type == MessageType.Cancel ? new CancelMessage(PieceIndex, Offset, Length) : throw WrongType(MessageType.Cancel);

    /// <summary>The header of a Piece message (the data is <see cref="Data"/>).</summary>
    public PieceMessage Piece => Type == MessageType.Piece ? new PieceMessage(PieceIndex, Offset, Length) : throw WrongType(MessageType.Piece);

    /// <inheritdoc/>
    public override string ToString() => Type switch
    {
        MessageType.Handshake or MessageType.Error => _reference?.ToString() ?? Type.ToString(),
        MessageType.Bitfield => $"Bitfield({Length} bytes)",
        MessageType.HavePiece => $"HavePiece({PieceIndex})",
        MessageType.Request or MessageType.Cancel or MessageType.Piece => $"{Type}({PieceIndex}, {Offset}, {Length})",
        _ => Type.ToString(),
    };

    private InvalidOperationException WrongType(MessageType wanted) => new($"a {Type} message is not a {wanted} message");
}
