namespace Shoal.P2P.Protocol;

/// <summary><c>Complete</c>: the sender has every piece (equivalent to a <c>HavePiece</c> for each piece it had not announced) and downloads nothing more.</summary>
public readonly record struct CompleteMessage : IPeerMessage
{
    /// <inheritdoc/>
    public MessageType Type => MessageType.Complete;

    /// <inheritdoc/>
    public int ByteLength => ProtocolConstants.HeaderLength;

    /// <inheritdoc/>
    public int Encode(Span<byte> destination) => Frame.WriteHeader(destination, Type, 0, ByteLength);
}
