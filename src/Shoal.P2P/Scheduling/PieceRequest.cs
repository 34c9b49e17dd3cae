namespace Shoal.P2P.Scheduling;

/// <summary>A piece requested from a peer.</summary>
/// <param name="Peer">The peer the piece was requested from.</param>
/// <param name="PieceIndex">The piece.</param>
public readonly record struct PieceRequest(PickerPeer Peer, int PieceIndex);
