using System.Buffers.Binary;

namespace Shoal.P2P.Protocol;

/// <summary>Frame header helpers shared by the message types.</summary>
internal static class Frame
{
    /// <summary>Writes the 5-byte header of a frame whose payload is <paramref name="payloadLength"/> bytes; returns the header length.</summary>
    public static int WriteHeader(Span<byte> destination, MessageType type, int payloadLength, int byteLength)
    {
        if (destination.Length < byteLength)
        {
            throw new ArgumentException($"A {type} frame needs {byteLength} bytes.", nameof(destination));
        }
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(payloadLength + 1));
        destination[4] = (byte)type;
        return ProtocolConstants.HeaderLength;
    }
}
