using Microsoft.Extensions.Logging;
using Shoal.P2P.Protocol;

namespace Shoal.P2P.Engine;

/// <summary>
/// Seeding by origins ("super-seeding"): an origin's seed swarm does not advertise the whole blob.
/// Each agent is offered a few pieces at a time (HavePiece after an empty Bitfield), pieces nobody
/// was sent or offered yet (lowest index first), so agents fetch different pieces from the origin
/// and trade them among themselves: the swarm waits on the origin's upload until every piece left
/// it once, so no piece goes out twice before that. A piece offered to a session stays open until
/// the origin finished sending it there or the agent announced it (got it elsewhere); each time an
/// offer closes, another piece is offered. Once every piece was sent once, every agent is told the
/// origin has everything (so its endgame may ask the origin too), and newcomers are offered the
/// least-sent pieces. Other origins see the whole blob.
/// </summary>
internal sealed partial class Swarm
{
    /// <summary>Pieces offered to an agent but not yet sent to it: enough to keep its link busy while the next offer travels.</summary>
    private const int OpenOffersPerSession = 4;

    /// <summary>How long an agent must be the swarm's only agent before it is offered the whole blob.</summary>
    private static readonly TimeSpan LoneGrace = TimeSpan.FromMilliseconds(300);

    private int[] _sentCount = [];
    private int _piecesSentOnce;
    private long _pieceUploads;
    private long _firstOfferAt;
    private int[] _openOffers = [];

    /// <summary>True when this swarm seeds a complete blob from an origin: offers pieces instead of advertising them all.</summary>
    public bool SuperSeeding { get; private set; }

    private void InitSuperSeeding()
    {
        SuperSeeding = _engine.IsOrigin && !File.IsWritable && Info.PieceCount > 0;
        if (SuperSeeding)
        {
            _sentCount = new int[Info.PieceCount];
            _openOffers = new int[Info.PieceCount];
        }
    }

    /// <summary>The bitfield greeting a session: all we have, or nothing for an agent of a super-seeding origin.</summary>
    private Bitfield GreetingBitfield(bool remoteIsOrigin)
        => SuperSeeding && !remoteIsOrigin ? new Bitfield(Info.PieceCount) : File.Snapshot();

    /// <summary>A session is ready: make its first offers.</summary>
    private void SeedReady(PeerSession session)
    {
        if (!SuperSeeding || session.IsOrigin)
        {
            return;
        }
        if (!_sessions.Exists(s => !ReferenceEquals(s, session) && !s.IsOrigin && s.Peer is not null))
        {
            session.LoneSince = _time.GetTimestamp();
        }
        Offer(session);
    }

    /// <summary>
    /// Tick: an agent that stayed the only agent of the swarm for <see cref="LoneGrace"/> has nobody to
    /// trade with; it is told we have everything (Complete), so it can follow its readers' frontier and
    /// ranges at full speed. Agents joining within the grace are all offered pieces. Agents short of
    /// offers are topped up: pieces whose offer closed without a send (the agent left, or got them
    /// elsewhere) are free again.
    /// </summary>
    private void SeedTick()
    {
        if (!SuperSeeding)
        {
            return;
        }
        PeerSession? alone = null;
        var agents = 0;
        foreach (var session in _sessions)
        {
            if (!session.IsOrigin && session.Peer is not null && session.Active)
            {
                agents++;
                alone = session;
                if (session.OpenOffers.Count < OpenOffersPerSession)
                {
                    Offer(session);
                }
            }
        }
        var now = _time.GetTimestamp();
        foreach (var session in _sessions)
        {
            if (agents != 1 || !ReferenceEquals(session, alone))
            {
                session.LoneSince = 0;
            }
        }
        if (agents != 1 || alone!.OfferedAll)
        {
            return;
        }
        if (alone.LoneSince == 0)
        {
            alone.LoneSince = now;
        }
        else if (_time.GetElapsedTime(alone.LoneSince, now) >= LoneGrace)
        {
            Log.OfferedAll(_logger, Info.Digest, alone.Address);
            OfferAll(alone, now);
        }
    }

    /// <summary>The origin finished sending the last block of <paramref name="index"/> to the session.</summary>
    private void OnPieceSent(PeerSession session, int index)
    {
        if (!SuperSeeding || (uint)index >= (uint)_sentCount.Length)
        {
            return;
        }
        _pieceUploads++;
        if (_sentCount[index]++ == 0)
        {
            Log.FirstSent(_logger, index, Info.Digest, session.Address);
            if (++_piecesSentOnce == _sentCount.Length)
            {
                Log.SentOnce(_logger, Info.Digest, _time.GetElapsedTime(_firstOfferAt).TotalSeconds, _pieceUploads - _sentCount.Length);
                OfferEverythingToAll();
            }
        }
        _lastActivity = _time.GetTimestamp();
        if (session.Active)
        {
            CloseOffer(session, index);
            Offer(session);
        }
    }

    /// <summary>
    /// Every piece left us once: from now on the swarm holds the whole blob and our upload would sit
    /// idle while the agents pass the last pieces around. Each agent is told we have everything, so
    /// in its endgame it may ask us too (outside endgame agents still take from us only what no agent
    /// peer of theirs has).
    /// </summary>
    private void OfferEverythingToAll()
    {
        var now = _time.GetTimestamp();
        foreach (var session in _sessions)
        {
            if (!session.IsOrigin && session.Peer is not null && session.Active && !session.OfferedAll)
            {
                OfferAll(session, now);
            }
        }
    }

    /// <summary>Tells the agent we have everything (Complete) instead of offering pieces one by one.</summary>
    private void OfferAll(PeerSession session, long now)
    {
        CloseAllOffers(session);
        session.OfferedAll = true;
        session.Send(new Outgoing(MessageType.Complete, 0, 0, 0));
        session.LastQueued = now;
    }

    /// <summary>The agent announced <paramref name="index"/> (or everything, -1): its open offers of those close.</summary>
    private void SeedPeerHas(PeerSession session, int index)
    {
        if (!SuperSeeding || session.IsOrigin)
        {
            return;
        }
        if (index < 0)
        {
            CloseAllOffers(session);
            return;
        }
        if (CloseOffer(session, index))
        {
            Offer(session);
        }
    }

    private bool CloseOffer(PeerSession session, int index)
    {
        if (!session.OpenOffers.Remove(index))
        {
            return false;
        }
        _openOffers[index]--;
        return true;
    }

    private void CloseAllOffers(PeerSession session)
    {
        if (!SuperSeeding)
        {
            return;
        }
        foreach (var index in session.OpenOffers)
        {
            _openOffers[index]--;
        }
        session.OpenOffers.Clear();
    }

    /// <summary>
    /// Tops the session's open offers up with the least-sent pieces it lacks, lowest index first on
    /// ties: the blob enters the swarm roughly front to back, so readers streaming it (a runtime
    /// unpacking a layer) are never far behind the download, and the last piece to arrive anywhere
    /// is near the end rather than anywhere.
    /// </summary>
    private void Offer(PeerSession session)
    {
        if (session.Peer is not { } peer || !session.Active || session.OfferedAll)
        {
            return;
        }
        while (session.OpenOffers.Count < OpenOffersPerSession)
        {
            var best = -1;
            var bestScore = int.MaxValue;
            for (var i = 0; i < _sentCount.Length && bestScore > 0; i++)
            {
                if (peer.Has(i) || session.OpenOffers.Contains(i))
                {
                    continue;
                }
                var score = _sentCount[i] + _openOffers[i];
                if (score < bestScore)
                {
                    (best, bestScore) = (i, score);
                }
            }
            if (best < 0 || (bestScore > 0 && _piecesSentOnce < _sentCount.Length))
            {
                // Until every piece left us once, a piece already sent or offered elsewhere is not
                // offered again: a second copy now would delay the first copy of another piece, and
                // the origin's upload is what the whole swarm waits on.
                return;
            }
            if (_firstOfferAt == 0)
            {
                _firstOfferAt = _time.GetTimestamp();
            }
            session.OpenOffers.Add(best);
            _openOffers[best]++;
            if (session.Offered.Set(best))
            {
                session.Send(Outgoing.Have(best));
                session.LastQueued = _time.GetTimestamp();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "Every piece of {Digest} was sent once {Seconds:F2} s after the first offer; {Extra} piece uploads beyond one copy")]
        public static partial void SentOnce(ILogger logger, Core.Digest digest, double seconds, long extra);

        [LoggerMessage(22, LogLevel.Trace, "Piece {Index} of {Digest} sent for the first time, to {Address}")]
        public static partial void FirstSent(ILogger logger, int index, Core.Digest digest, string address);

        [LoggerMessage(21, LogLevel.Information, "Agent {Address} is alone in the swarm of {Digest}: it is offered the whole blob")]
        public static partial void OfferedAll(ILogger logger, Core.Digest digest, string address);
    }
}
