namespace Shoal.P2P.Protocol;

/// <summary><c>Bitfield</c>: the pieces the sender has, <c>ceil(pieceCount / 8)</c> bytes, piece 0 in the high bit of byte 0.</summary>
public readonly struct BitfieldMessage : IPeerMessage
{
    public BitfieldMessage(Bitfield pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pieces.Length, ProtocolConstants.MaxPieceCount);
        Pieces = pieces;
    }

    /// <summary>The sender's pieces (encoded as they are when <see cref="Encode"/> runs).</summary>
    public Bitfield Pieces { get; }

    /// <inheritdoc/>
    public MessageType Type => MessageType.Bitfield;

    /// <inheritdoc/>
    public int ByteLength => ProtocolConstants.HeaderLength + Pieces.WireLength;

    /// <inheritdoc/>
    public int Encode(Span<byte> destination)
    {
        var wire = Pieces.WireLength;
        var at = Frame.WriteHeader(destination, Type, wire, ProtocolConstants.HeaderLength + wire);
        Pieces.WriteTo(destination[at..]);
        return at + wire;
    }
}
