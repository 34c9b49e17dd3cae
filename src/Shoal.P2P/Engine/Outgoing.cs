using Shoal.P2P.Protocol;

namespace Shoal.P2P.Engine;

/// <summary>One item of a connection's send queue; the writer task encodes it.</summary>
internal readonly record struct Outgoing(MessageType Type, int Index, int Offset, int Length, object? Reference = null)
{
    public static Outgoing Have(int index) => new(MessageType.HavePiece, index, 0, 0);

    public static Outgoing Request(int index, int offset, int length) => new(MessageType.Request, index, offset, length);

    public static Outgoing Cancel(int index, int offset, int length) => new(MessageType.Cancel, index, offset, length);

    public static Outgoing Serve(int index, int offset, int length) => new(MessageType.Piece, index, offset, length);

    public static Outgoing Error(PeerErrorCode code, string text) => new(MessageType.Error, (int)code, 0, 0, text);
}
