using Shoal.P2P.Protocol;

namespace Shoal.P2P.Tests;

/// <summary>Checks of how a connection ends, seen from the peer's side.</summary>
internal static class PeerAssert
{
    /// <summary>
    /// The peer, having read our Error, still sends what it had in flight (a bitfield, then a Have) and
    /// must then see a clean end of stream. Had our side closed outright, the kernel would answer those
    /// bytes with a reset and the peer's next write or read would fail instead.
    /// </summary>
    public static async Task SendsOnThenSeesACleanCloseAsync(PeerConnection peer, int pieceCount, CancellationToken token)
    {
        await peer.WriteAsync(new BitfieldMessage(new Bitfield(pieceCount)), token);
        await Task.Delay(200, token);
        await peer.WriteAsync(new HavePieceMessage(0), token);
        await Task.Delay(200, token);
        Assert.Null(await peer.ReadMessageAsync(token));
    }
}
