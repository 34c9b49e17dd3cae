namespace Shoal.P2P.Protocol;

/// <summary>A message that encodes itself as one complete frame (length prefix, type byte, payload).</summary>
public interface IPeerMessage
{
    /// <summary>The message type.</summary>
    MessageType Type { get; }

    /// <summary>The encoded size of the whole frame, in bytes.</summary>
    int ByteLength { get; }

    /// <summary>Writes the whole frame into <paramref name="destination"/> and returns <see cref="ByteLength"/>.</summary>
    int Encode(Span<byte> destination);
}
