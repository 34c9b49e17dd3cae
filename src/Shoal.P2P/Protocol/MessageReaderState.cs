namespace Shoal.P2P.Protocol;

/// <summary>Where a connection's inbound direction is in the protocol's state machine.</summary>
public enum MessageReaderState
{
    /// <summary>Only a Handshake (or an Error) may arrive.</summary>
    AwaitingHandshake,

    /// <summary>The handshake arrived; only a Bitfield (or an Error) may arrive.</summary>
    AwaitingBitfield,

    /// <summary>HavePiece, Request, Piece, Cancel, Complete, KeepAlive and Error may arrive.</summary>
    Open,

    /// <summary>An Error arrived; nothing more may.</summary>
    Closed,
}
