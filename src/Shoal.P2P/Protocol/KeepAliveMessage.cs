namespace Shoal.P2P.Protocol;

/// <summary><c>KeepAlive</c>: sent on an otherwise idle connection so the peer does not time it out.</summary>
public readonly record struct KeepAliveMessage : IPeerMessage
{
    /// <inheritdoc/>
    public MessageType Type => MessageType.KeepAlive;

    /// <inheritdoc/>
    public int ByteLength => ProtocolConstants.HeaderLength;

    /// <inheritdoc/>
    public int Encode(Span<byte> destination) => Frame.WriteHeader(destination, Type, 0, ByteLength);
}
