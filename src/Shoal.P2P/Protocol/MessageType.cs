namespace Shoal.P2P.Protocol;

/// <summary>The type byte of a frame. Values are fixed forever; new versions only add values.</summary>
public enum MessageType : byte
{
    /// <summary>Identifies the swarm, the peer and the protocol version; the first frame each side sends.</summary>
    Handshake = 0x01,

    /// <summary>The pieces the sender has; exactly once, right after the handshake.</summary>
    Bitfield = 0x02,

    /// <summary>The sender has verified and stored one more piece.</summary>
    HavePiece = 0x03,

    /// <summary>Asks for a block (a whole piece or a byte range of one).</summary>
    Request = 0x04,

    /// <summary>A block of piece data answering a request.</summary>
    Piece = 0x05,

    /// <summary>Withdraws a request.</summary>
    Cancel = 0x06,

    /// <summary>The sender has every piece.</summary>
    Complete = 0x07,

    /// <summary>Keeps an idle connection from timing out.</summary>
    KeepAlive = 0x08,

    /// <summary>A fatal error; the sender closes the connection after it.</summary>
    Error = 0x09,
}
