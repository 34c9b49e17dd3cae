using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Shoal.P2P.Protocol;

/// <summary>
/// <c>Error(code, text)</c>: a fatal error. The sender closes the connection after it; the receiver
/// closes too. Text longer than <see cref="ProtocolConstants.MaxErrorTextLength"/> UTF-8 bytes is
/// cut at a character boundary.
/// </summary>
public readonly struct ErrorMessage : IPeerMessage
{
    /// <summary>The payload bytes before the text: code and text length, 2 bytes each.</summary>
    public const int FixedPayloadLength = 4;

    private readonly int _textBytes;

    public ErrorMessage(PeerErrorCode code, string? text)
    {
        text ??= "";
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > ProtocolConstants.MaxErrorTextLength)
        {
            Span<byte> scratch = stackalloc byte[ProtocolConstants.MaxErrorTextLength];
            Utf8.FromUtf16(text, scratch, out var charsRead, out bytes, replaceInvalidSequences: true, isFinalBlock: true);
            text = text[..charsRead];
        }
        Code = code;
        Text = text;
        _textBytes = bytes;
    }

    /// <summary>The error code.</summary>
    public PeerErrorCode Code { get; }

    /// <summary>A human-readable explanation (for logs; never parsed).</summary>
    public string Text => field ?? "";

    /// <inheritdoc/>
    public MessageType Type => MessageType.Error;

    /// <inheritdoc/>
    public int ByteLength => ProtocolConstants.HeaderLength + FixedPayloadLength + _textBytes;

    /// <inheritdoc/>
    public int Encode(Span<byte> destination)
    {
        var at = Frame.WriteHeader(destination, Type, FixedPayloadLength + _textBytes, ByteLength);
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], (ushort)Code);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(at + 2)..], (ushort)_textBytes);
        Encoding.UTF8.GetBytes(Text, destination.Slice(at + FixedPayloadLength, _textBytes));
        return ByteLength;
    }

    /// <inheritdoc/>
    public override string ToString() => $"Error({Code}: {Text})";
}
