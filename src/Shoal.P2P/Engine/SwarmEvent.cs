using System.Net.Sockets;
using Shoal.P2P.Protocol;

namespace Shoal.P2P.Engine;

/// <summary>What a swarm's loop reacts to. Connection tasks, timers, readers and the engine post these; only the loop consumes them.</summary>
internal abstract record SwarmEvent
{
    /// <summary>A connection exchanged handshakes; the peer has the pieces of <paramref name="Pieces"/>.</summary>
    public sealed record Ready(PeerSession Session, Bitfield Pieces) : SwarmEvent;

    /// <summary>A peer dialled us for this swarm; the engine read its handshake.</summary>
    public sealed record Incoming(Socket Socket, PeerConnection Connection, HandshakeMessage Handshake) : SwarmEvent;

    /// <summary>The peer announced a piece.</summary>
    public sealed record Have(PeerSession Session, int Index) : SwarmEvent;

    /// <summary>The peer announced every piece.</summary>
    public sealed record HaveAll(PeerSession Session) : SwarmEvent;

    /// <summary>A piece from the peer was assembled: verified and on disk, or corrupt.</summary>
    public sealed record PieceDone(PeerSession Session, int Index, bool Verified) : SwarmEvent;

    /// <summary>We finished sending the last block of piece <paramref name="Index"/> to the peer (super-seeding origins only).</summary>
    public sealed record PieceSent(PeerSession Session, int Index) : SwarmEvent;

    /// <summary>The connection ended.</summary>
    public sealed record Closed(PeerSession Session) : SwarmEvent;

    /// <summary>An announce answered (or failed, <paramref name="Result"/> null).</summary>
    public sealed record Announced(AnnounceResult? Result) : SwarmEvent;

    /// <summary>A reader waits at piece <paramref name="Index"/> (or stopped waiting, -1).</summary>
    public sealed record Reader(int Id, int Index) : SwarmEvent;

    /// <summary>The periodic timer.</summary>
    public sealed record Tick : SwarmEvent
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>The announce timer.</summary>
    public sealed record AnnounceDue : SwarmEvent
    {
        public static readonly AnnounceDue Instance = new();
    }

    /// <summary>The oldest held Have has waited long enough.</summary>
    public sealed record HavesDue : SwarmEvent
    {
        public static readonly HavesDue Instance = new();
    }

    /// <summary>The blob left the local store (evicted): a complete swarm stops seeding it.</summary>
    public sealed record Forgotten : SwarmEvent
    {
        public static readonly Forgotten Instance = new();
    }

    /// <summary>A verified piece could not be written to our own disk (full, or failing): the download cannot go on.</summary>
    public sealed record StoreFailed(int Index, IOException Failure) : SwarmEvent;

    /// <summary>The commit of the finished download ended (null on success, else why it failed).</summary>
    public sealed record Committed(Exception? Failure) : SwarmEvent;
}
