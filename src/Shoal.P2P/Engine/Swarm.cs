using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Shoal.Core.Blobs;
using Shoal.Core.Store;
using Shoal.P2P.Protocol;
using Shoal.P2P.Scheduling;
using Shoal.P2P.Storage;

namespace Shoal.P2P.Engine;

/// <summary>
/// One blob's swarm: a single loop owns every piece of its state (picker, sessions, candidates,
/// bans, readers, timers) and consumes a channel of <see cref="SwarmEvent"/>s; connection tasks,
/// timers and readers only post. A download swarm dials peers, picks and requests pieces, commits
/// the blob when every piece is verified and then seeds until idle; a seed swarm only serves.
/// </summary>
internal sealed partial class Swarm
{
    /// <summary>How often a swarm that is downloading, or an origin's swarm with agents to offer pieces to, does its housekeeping.</summary>
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How often any other seeding swarm does: its ticks only send keep-alives (every 15 s), sample
    /// rates and watch for the idle timeout. An agent keeps a swarm open for every blob it pulled in
    /// the last minutes (<see cref="P2POptions.IdleSwarmTimeout"/>), and each tick is a timer firing
    /// and a thread waking, so seeding at the download pace cost an idle node five wake-ups a second
    /// per recent blob.
    /// </summary>
    private static readonly TimeSpan SeedTickInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan BanDuration = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StateSaveInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinAnnounceGap = TimeSpan.FromSeconds(1);
    private const int LowPeerCount = 3;

    /// <summary>A downloading peer with fewer ready agent connections than this asks full peers to make room (<see cref="PeerFlags.Needy"/>).</summary>
    private const int NeedyBelow = 2;

    /// <summary>A connection younger than this is never closed to make room: it has not shown what it is worth yet.</summary>
    private static readonly TimeSpan EvictionGrace = TimeSpan.FromSeconds(2);

    /// <summary>At most one connection is closed to make room per this long, so newcomers cannot churn a swarm.</summary>
    private static readonly TimeSpan EvictionGap = TimeSpan.FromMilliseconds(500);

    /// <summary>After a Busy refusal a peer is not dialled again for this long, doubling per refusal up to <see cref="MaxBusyBackoff"/>.</summary>
    private static readonly TimeSpan BusyBackoff = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan MaxBusyBackoff = TimeSpan.FromSeconds(4);
    /// <summary>
    /// An agent peer that can already ask us for at least this many pieces it lacks is not told of a
    /// new piece at once: the Have is held (at most <see cref="HaveHoldTime"/>) and leaves with the
    /// others held for that peer, or with the next request we send it. A peer with little to ask of
    /// us hears at once, so nobody waits for a piece only we have; in a swarm pulling together most
    /// Haves go to peers with hundreds of pieces to choose from, and each one sent alone is a send,
    /// a receive and a wake-up of the peer's loop.
    /// </summary>
    private const int HaveHoldOfferable = 32;

    /// <summary>The longest a Have is held (see <see cref="HaveHoldOfferable"/>).</summary>
    private static readonly TimeSpan HaveHoldTime = TimeSpan.FromMilliseconds(50);

    private readonly PeerEngine _engine;
    private readonly Channel<SwarmEvent> _events = Channel.CreateUnbounded<SwarmEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PartialStore? _partials;
    private readonly BlobStore? _store;
    private readonly List<PeerSession> _sessions = [];
    private readonly HashSet<string> _addresses = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<PeerAddress> _candidates = [];
    private readonly Dictionary<string, long> _banned = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (long Until, int Refusals)> _busy = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<int, int> _readers = [];
    private readonly List<PickerPeer> _losers = [];
    private readonly List<PieceRequest> _expired = [];
    private readonly int _blocksPerPiece;
    private PiecePicker _picker = null!;
    private ITimer? _tick;
    private long _tickPeriod = TickInterval.Ticks; // in TimeSpan ticks, read by tests from other threads
    private ITimer? _announceTimer;
    private ITimer? _haveTimer;
    private long _heldSince; // when the oldest held Have was held; 0 when none is
    private TimeSpan _announceInterval = TimeSpan.FromSeconds(3);
    private long _lastAnnounce = long.MinValue;
    private bool _announcing;
    private bool _committing;
    private bool _committed;
    private bool _stateDirty;
    private long _lastStateSave;
    private long _lastActivity;
    private long _lastRateSample;
    private long _startedAt;
    private long _lastEviction;
    private long _fromOrigins;
    private long _fromAgents;
    private int _peersSeen;
    private bool _stopping;

    public Swarm(PeerEngine engine, MetaInfo info, string? @namespace, BlobFile file, PartialStore? partials, BlobStore? store)
    {
        _engine = engine;
        _time = engine.Time;
        _logger = engine.Logger;
        Info = info;
        Namespace = @namespace;
        File = file;
        _partials = partials;
        _store = store;
        _blocksPerPiece = Math.Max(1, (info.PieceLength + PeerSession.BlockSize - 1) / PeerSession.BlockSize);
        if (file.IsWritable)
        {
            Download = new BlobDownload(this);
        }
        _committed = !file.IsWritable;
        InitSuperSeeding();
    }

    public MetaInfo Info { get; }

    public string? Namespace { get; }

    public BlobFile File { get; }

    /// <summary>The download handle (null for a seed swarm).</summary>
    public BlobDownload? Download { get; }

    /// <summary>Posts an event to the loop (any thread).</summary>
    public void Post(SwarmEvent item) => TryPost(item);

    /// <summary>Posts an event to the loop (any thread); false when the swarm has stopped.</summary>
    public bool TryPost(SwarmEvent item) => _events.Writer.TryWrite(item);

    /// <summary>The loop: runs until the swarm is idle, failed, or the engine stops.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var options = new PiecePickerOptions
        {
            RequestTimeout = _engine.Options.PieceRequestTimeout ?? PiecePickerOptions.RequestTimeoutFor(Math.Max(1, Info.PieceLength)),
        };
        _picker = new PiecePicker(Info.PieceCount, new Random(), _time, options, File.Snapshot());
        _lastActivity = _lastRateSample = _startedAt = _time.GetTimestamp();
        _tick = _time.CreateTimer(static s => ((Swarm)s!).Post(SwarmEvent.Tick.Instance), this, TickInterval, TickInterval);
        PaceTicks();
        if (File.IsWritable)
        {
            _haveTimer = _time.CreateTimer(static s => ((Swarm)s!).Post(SwarmEvent.HavesDue.Instance), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        if (_engine.Announcer is not null)
        {
            _announceTimer = _time.CreateTimer(static s => ((Swarm)s!).Post(SwarmEvent.AnnounceDue.Instance), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            StartAnnounce();
        }
        if (File.IsWritable && File.IsComplete)
        {
            StartCommit();
        }
        try
        {
            await foreach (var item in _events.Reader.ReadAllAsync(stopping))
            {
                Handle(item);
                if (_stopping)
                {
                    break;
                }
                if (_heldSince != 0 && _time.GetElapsedTime(_heldSince) >= HaveHoldTime)
                {
                    SendHeldHaves();
                }
                PaceTicks();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.LoopFailed(_logger, Info.Digest, ex);
            Download?.Fail(ex);
        }
        finally
        {
            Shutdown();
        }
    }

    private void Handle(SwarmEvent item)
    {
        switch (item)
        {
            case SwarmEvent.Ready ready:
                OnReady(ready.Session, ready.Pieces);
                break;
            case SwarmEvent.Incoming incoming:
                OnIncoming(incoming);
                break;
            case SwarmEvent.Have have when have.Session.Peer is { } peer && have.Session.Active:
                if (have.Session.IsOrigin && !_engine.IsOrigin && !peer.IsComplete && _picker.Has(have.Index))
                {
                    // An origin offered a piece we already hold (we do not tell origins of every
                    // piece): saying so closes the offer, and the origin offers another.
                    have.Session.Send(Outgoing.Have(have.Index));
                }
                _picker.PeerHas(peer, have.Index);
                SeedPeerHas(have.Session, have.Index);
                if (!PartIfBothComplete(have.Session))
                {
                    Fill(have.Session);
                }
                break;
            case SwarmEvent.HaveAll all when all.Session.Peer is { } peer && all.Session.Active:
                _picker.PeerHasAll(peer);
                SeedPeerHas(all.Session, -1);
                if (!PartIfBothComplete(all.Session))
                {
                    Fill(all.Session);
                }
                break;
            case SwarmEvent.PieceDone done:
                OnPieceDone(done.Session, done.Index, done.Verified);
                break;
            case SwarmEvent.PieceSent sent:
                OnPieceSent(sent.Session, sent.Index);
                break;
            case SwarmEvent.Closed closed:
                NoteRefusal(closed.Session);
                Remove(closed.Session);
                FillAll();
                break;
            case SwarmEvent.Announced announced:
                OnAnnounced(announced.Result);
                break;
            case SwarmEvent.Reader reader:
                OnReader(reader.Id, reader.Index);
                break;
            case SwarmEvent.Tick:
                OnTick();
                break;
            case SwarmEvent.AnnounceDue:
                StartAnnounce();
                break;
            case SwarmEvent.HavesDue:
                SendHeldHaves();
                break;
            case SwarmEvent.Committed committed:
                OnCommitted(committed.Failure);
                break;
            case SwarmEvent.StoreFailed failed when !_stopping:
                // A full or failing disk: stop here rather than fetch piece after piece that cannot
                // be stored. The partial download goes too, giving its space back; the next request
                // for the blob starts afresh.
                Log.StoreFailed(_logger, failed.Index, Info.Digest, failed.Failure.Message);
                Download?.Fail(new IOException($"storing {Info.Digest} failed: {failed.Failure.Message}", failed.Failure));
                _partials?.Delete(Info.Digest);
                _stopping = true;
                break;
            case SwarmEvent.Forgotten when _committed:
                // Evicted from the store: stop seeding (the open file would keep the bytes alive),
                // so the next pull of the blob downloads and stores it again.
                Log.Forgotten(_logger, Info.Digest);
                _stopping = true;
                break;
        }
    }

    private void OnIncoming(SwarmEvent.Incoming incoming)
    {
        var handshake = incoming.Handshake;
        PeerErrorCode? refusal = null;
        string? reason = null;
        if (!handshake.Matches(Info))
        {
            (refusal, reason) = (PeerErrorCode.SwarmMismatch, "digest or piece count differ from our metainfo");
        }
        else if (handshake.PeerId == _engine.PeerId)
        {
            (refusal, reason) = (PeerErrorCode.DuplicateConnection, "that is us");
        }
        else if (OpenSessionWith(handshake.PeerId) is not null)
        {
            // Already connected, the other way (the peer knows us by an address it did not connect
            // from, e.g. from the tracker): the working connection stays; requests in flight on it
            // would be lost if the duplicate rule below closed it.
            (refusal, reason) = (PeerErrorCode.DuplicateConnection, "already connected");
        }
        else if (IsBanned(handshake.PeerId.ToString()))
        {
            (refusal, reason) = (PeerErrorCode.Forbidden, "banned from this swarm");
        }
        else if (_stopping || (!handshake.IsOrigin && AgentSessionCount() >= _engine.Options.MaxConnectionsPerBlob && !(handshake.IsNeedy && MakeRoom())))
        {
            (refusal, reason) = (PeerErrorCode.Busy, "no connection slot free for this blob");
        }
        if (refusal is { } code)
        {
            _engine.Reject(incoming.Socket, incoming.Connection, code, reason!);
            return;
        }
        var address = incoming.Socket.RemoteEndPoint?.ToString() ?? "?";
        var session = new PeerSession(this, _engine, outgoing: false, address);
        _sessions.Add(session);
        SendGreeting(session, handshake.IsOrigin);
        _lastActivity = _time.GetTimestamp();
        _ = session.RunIncomingAsync(incoming.Socket, incoming.Connection, handshake);
    }

    private void OnReady(PeerSession session, Bitfield pieces)
    {
        if (!session.Active)
        {
            return;
        }
        var remote = session.Remote!;
        var id = remote.PeerId.ToString();
        if (IsBanned(id))
        {
            Drop(session, PeerErrorCode.Forbidden, "banned from this swarm");
            return;
        }
        if (OpenSessionWith(remote.PeerId) is { } other)
        {
            // Two connections between the same peers: keep the one dialled by the lower peer id (both sides agree).
            var keepOther = string.CompareOrdinal(DialerOf(other), DialerOf(session)) <= 0;
            Drop(keepOther ? session : other, PeerErrorCode.DuplicateConnection, "already connected");
            if (keepOther)
            {
                return;
            }
        }
        session.Peer = _picker.AddPeer(remote.IsOrigin, session);
        session.ReadyAt = _time.GetTimestamp();
        _peersSeen++;
        Log.PeerReady(_logger, session.Address, remote.IsOrigin ? "origin" : "agent", session.Outgoing ? "dialled" : "accepted", Info.Digest, pieces.SetCount, _picker.Peers.Count);
        _picker.PeerHasBitfield(session.Peer, pieces);
        if (PartIfBothComplete(session))
        {
            return;
        }
        SeedReady(session);
        Fill(session);
    }

    /// <summary>
    /// The tracker's id of <paramref name="peer"/> is ours, or that of a peer we have a session with
    /// (either direction): an agent that dialled us is known here only by its ephemeral address, so
    /// the address alone would not stop us from dialling it a second time.
    /// </summary>
    private bool IsSelfOrConnected(PeerAddress peer)
        => peer.Id is { } id && (id == _engine.PeerId || _sessions.Exists(s => s.Remote?.PeerId == id || s.Dialled?.Id == id));

    /// <summary>The open session (bitfields exchanged) with the peer <paramref name="id"/>, if any.</summary>
    private PeerSession? OpenSessionWith(PeerId id) => _sessions.Find(s => s.Peer is not null && s.Remote!.PeerId == id);

    private string DialerOf(PeerSession session) => session.Outgoing ? _engine.PeerId.ToString() : session.Remote!.PeerId.ToString();

    private void OnPieceDone(PeerSession session, int index, bool verified)
    {
        _lastActivity = _time.GetTimestamp();
        var peer = session.Active ? session.Peer : null;
        if (!verified)
        {
            if (!session.Active)
            {
                return;
            }
            Log.CorruptPiece(_logger, index, Info.Digest, session.Address);
            Ban(session);
            Drop(session, PeerErrorCode.CorruptPiece, $"piece {index} failed its SHA-256 check");
            FillAll();
            return;
        }
        if (_picker.Has(index))
        {
            if (peer is not null)
            {
                _picker.Release(peer, index);
                Fill(session);
            }
            return;
        }
        var latency = peer is null ? null : _picker.RequestAge(peer, index);
        if (latency is { } sample)
        {
            session.Latency.Add(sample, _time.GetTimestamp(), _time);
        }
        File.MarkVerified(index);
        Log.PieceStored(_logger, index, Info.Digest, session.Address, session.IsOrigin ? "origin" : "agent", (latency ?? TimeSpan.Zero).TotalMilliseconds);
        _losers.Clear();
        _picker.MarkHave(index, peer, _losers);
        foreach (var loser in _losers)
        {
            SendCancels((PeerSession)loser.Tag!, index);
        }
        foreach (var other in _sessions)
        {
            if (other.IsOrigin ? OriginNeedsHave(other, index, session) : NeedsHave(other, index))
            {
                TellHave(other, index);
            }
        }
        _stateDirty = true;
        if (File.IsComplete)
        {
            // Before readers wake: the one waiting for the blob's last byte finds it verified.
            StartCommit();
            Download?.Pulse();
            _heldSince = 0;
            foreach (var other in _sessions)
            {
                other.HeldHaves.Clear(); // Complete says it all
                other.Send(new Outgoing(MessageType.Complete, 0, 0, 0));
                CountReceived(other);
            }
            foreach (var other in _sessions.ToArray())
            {
                PartIfBothComplete(other);
            }
            var seconds = _time.GetElapsedTime(_startedAt).TotalSeconds;
            _engine.Stats.Downloaded(seconds);
            Log.Downloaded(_logger, Info.Digest, Info.Length, seconds, _fromOrigins, _fromAgents, _peersSeen);
            StartAnnounce();
            return;
        }
        Download?.Pulse();
        if (peer is not null)
        {
            Fill(session);
        }
        foreach (var loser in _losers)
        {
            Fill((PeerSession)loser.Tag!);
        }
    }

    private void OnAnnounced(AnnounceResult? result)
    {
        _announcing = false;
        if (result is not null)
        {
            Log.Announced(_logger, Info.Digest, result.Peers.Count, _time.GetElapsedTime(_lastAnnounce).TotalMilliseconds);
            _announceInterval = result.Interval;
            foreach (var peer in result.Peers)
            {
                var key = peer.ToString();
                if (!_addresses.Contains(key) && !IsBanned(key) && !IsSelfOrConnected(peer) && !_candidates.Exists(c => string.Equals(c.ToString(), key, StringComparison.OrdinalIgnoreCase)))
                {
                    _candidates.Add(peer);
                }
            }
            Dial();
        }
        _announceTimer?.Change(_announceInterval, Timeout.InfiniteTimeSpan);
    }

    private void OnReader(int id, int index)
    {
        if (index == BlobDownload.ReaderGone)
        {
            _readers.Remove(id);
        }
        else
        {
            _readers[id] = index;
        }
        _lastActivity = _time.GetTimestamp();
        var frontier = -1;
        foreach (var waiting in _readers.Values)
        {
            if (waiting >= 0 && (frontier < 0 || waiting < frontier))
            {
                frontier = waiting;
            }
        }
        if (Info.PieceCount > 0)
        {
            _picker.SetFrontier(frontier >= 0 ? frontier : null);
        }
        FillAll();
    }

    /// <summary>The housekeeping period in force (see <see cref="TickInterval"/> and <see cref="SeedTickInterval"/>).</summary>
    internal TimeSpan TickPeriod => TimeSpan.FromTicks(Volatile.Read(ref _tickPeriod));

    /// <summary>Ticks at the download pace while there is something to download or to offer, and slowly otherwise.</summary>
    private void PaceTicks()
    {
        var period = !File.IsComplete || (SuperSeeding && _sessions.Count > 0) ? TickInterval : SeedTickInterval;
        if (period.Ticks != _tickPeriod && _tick is { } tick)
        {
            Volatile.Write(ref _tickPeriod, period.Ticks);
            tick.Change(period, period);
        }
    }

    private void OnTick()
    {
        var now = _time.GetTimestamp();
        if (!_picker.IsComplete && File.IsWritable)
        {
            _expired.Clear();
            _picker.ExpireRequests(_expired);
            foreach (var request in _expired)
            {
                SendCancels((PeerSession)request.Peer.Tag!, request.PieceIndex);
            }
        }
        var seconds = _time.GetElapsedTime(_lastRateSample, now).TotalSeconds;
        if (seconds > 0)
        {
            _lastRateSample = now;
            foreach (var session in _sessions)
            {
                var (received, sent) = (session.Received, session.Sent);
                var rate = (received - session.SampledBytes) / seconds;
                var exchange = rate + ((sent - session.SampledSent) / seconds);
                session.SampledBytes = received;
                session.SampledSent = sent;
                session.Rate = session.Rate == 0 ? rate : (0.6 * session.Rate) + (0.4 * rate);
                session.ExchangeRate = (0.6 * session.ExchangeRate) + (0.4 * exchange);
                if (received > 0)
                {
                    _lastActivity = now;
                }
            }
        }
        foreach (var session in _sessions)
        {
            if (session.Peer is not null && _time.GetElapsedTime(session.LastQueued, now) > KeepAliveInterval)
            {
                session.LastQueued = now;
                session.Send(new Outgoing(MessageType.KeepAlive, 0, 0, 0));
            }
        }
        if (!File.IsComplete)
        {
            Dial();
            if (ConnectedCount() < LowPeerCount && _candidates.Count == 0 && _time.GetElapsedTime(_lastAnnounce, now) > MinAnnounceGap)
            {
                StartAnnounce();
            }
        }
        SeedTick();
        FillAll();
        if (_stateDirty && _partials is not null && !_committed && _time.GetElapsedTime(_lastStateSave, now) >= StateSaveInterval)
        {
            SaveState();
        }
        if (_committed && _sessions.Count == 0 && _readers.Count == 0 && _time.GetElapsedTime(_lastActivity, now) >= _engine.Options.IdleSwarmTimeout)
        {
            Log.Idle(_logger, Info.Digest);
            _stopping = true;
        }
    }

    private void OnCommitted(Exception? failure)
    {
        _committing = false;
        if (failure is null)
        {
            _committed = true;
            _partials?.Delete(Info.Digest);
            _lastActivity = _time.GetTimestamp();
            Download?.Pulse();
            return;
        }
        Log.CommitFailed(_logger, Info.Digest, failure.Message);
        _partials?.Delete(Info.Digest);
        _stopping = true;
    }

    private void StartCommit()
    {
        if (_committing || _committed || _store is null)
        {
            return;
        }
        _committing = true;
        var download = Download!;
        VerifiedFile verified;
        try
        {
            // Every piece passed its check against the metainfo's chain, whose last value is the
            // digest: the file as a whole hashes to the digest, with no second pass over it. From
            // here readers may have the last byte (told here, not after a hop to the thread pool),
            // while the store makes the blob durable and visible.
            verified = VerifiedFile.FromVerifiedPieces(_partials!.DataPath(Info.Digest), Info, File.HasPiece);
        }
        catch (Exception ex)
        {
            Failed(ex);
            return;
        }
        download.Verified();
        var store = _store;
        _ = Task.Run(async () =>
        {
            try
            {
                var result = await store.PublishAsync(verified, CancellationToken.None);
                download.Complete(result);
                Post(new SwarmEvent.Committed(null));
            }
            catch (Exception ex)
            {
                Failed(ex);
            }
        });

        void Failed(Exception ex)
        {
            download.Fail(ex);
            Post(new SwarmEvent.Committed(ex));
        }
    }

    private void StartAnnounce()
    {
        var announcer = _engine.Announcer;
        if (announcer is null || _announcing || _stopping)
        {
            return;
        }
        _announcing = true;
        _lastAnnounce = _time.GetTimestamp();
        var complete = File.IsComplete;
        _ = Task.Run(async () =>
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                var result = await announcer.AnnounceAsync(Info, Namespace, _engine.PeerId, _engine.AdvertisedPort, complete, timeout.Token);
                Post(new SwarmEvent.Announced(result));
            }
            catch (Exception ex)
            {
                Log.AnnounceFailed(_logger, Info.Digest, ex.Message);
                Post(new SwarmEvent.Announced(null));
            }
        });
    }

    private void Dial()
    {
        if (File.IsComplete || _stopping)
        {
            return;
        }
        var haveOrigin = _sessions.Exists(s => s.IsOrigin);
        var needy = IsNeedy();
        for (var i = 0; i < _candidates.Count;)
        {
            var candidate = _candidates[i];
            // Origins do not count against the per-blob limit, so a swarm full of agents can still reach one (Kraken #162).
            // Agents dial only half their slots and keep the rest for peers dialling them: if everyone
            // filled every slot by dialling, the first agents of a swarm would fill each other up and
            // the later ones would be left to form an island among themselves.
            var room = candidate.IsOrigin
                ? !haveOrigin || _sessions.Count(s => s.IsOrigin) < 2
                : AgentSessionCount() < _engine.Options.MaxConnectionsPerBlob && AgentSessionCount(outgoing: true) < MaxDialled;
            if (!room || InBackoff(candidate.ToString()))
            {
                i++;
                continue;
            }
            _candidates.RemoveAt(i);
            var key = candidate.ToString();
            if (_addresses.Contains(key) || IsBanned(key) || IsSelfOrConnected(candidate))
            {
                continue;
            }
            if (!_engine.TryReserveConnection())
            {
                return;
            }
            var session = new PeerSession(this, _engine, outgoing: true, key) { Dialled = candidate };
            _addresses.Add(key);
            _sessions.Add(session);
            haveOrigin |= candidate.IsOrigin;
            SendGreeting(session, candidate.IsOrigin, needy);
            _ = session.RunOutgoingAsync(candidate.Host, candidate.Port);
        }
    }

    private void SendGreeting(PeerSession session, bool remoteIsOrigin, bool needy = false)
    {
        var flags = (_engine.IsOrigin ? PeerFlags.Origin : PeerFlags.None) | (needy ? PeerFlags.Needy : PeerFlags.None);
        session.Send(new Outgoing(MessageType.Handshake, 0, 0, 0, HandshakeMessage.For(Info, _engine.PeerId, Namespace, flags)));
        session.Send(new Outgoing(MessageType.Bitfield, 0, 0, 0, GreetingBitfield(remoteIsOrigin)));
        session.LastQueued = _time.GetTimestamp();
    }

    private void FillAll()
    {
        if (_picker.IsComplete || !File.IsWritable)
        {
            return;
        }
        foreach (var session in _sessions)
        {
            Fill(session);
        }
    }

    /// <summary>Keeps the peer's pipeline full: pieces requested up to its target depth, in blocks.</summary>
    private void Fill(PeerSession session)
    {
        if (session.Peer is not { } peer || !session.Active || _picker.IsComplete || !File.IsWritable)
        {
            return;
        }
        var depth = TargetPieces(session);
        var requested = false;
        while (peer.RequestCount < depth && _picker.TryPick(peer, out var index))
        {
            if (peer.IsOrigin && _picker.AgentAvailability(index) > 0 && !_picker.IsEndgame)
            {
                // Origins serve what no agent peer can; anything else comes from the swarm, except in
                // endgame, when the last pieces are worth a second source and an origin that sent
                // everything once has upload to spare.
                _picker.Release(peer, index);
                break;
            }
            var size = Info.PieceSize(index);
            for (var offset = 0; offset < size; offset += PeerSession.BlockSize)
            {
                session.Send(Outgoing.Request(index, offset, Math.Min(PeerSession.BlockSize, size - offset)));
            }
            requested = true;
        }
        if (requested)
        {
            SendHeldHaves(session); // they leave with the requests
            session.LastQueued = _time.GetTimestamp();
        }
    }

    /// <summary>Tells <paramref name="session"/>'s peer that we stored piece <paramref name="index"/>, now or held (see <see cref="HaveHoldOfferable"/>).</summary>
    private void TellHave(PeerSession session, int index)
    {
        if (session.IsOrigin || session.Peer is not { } peer || _haveTimer is null
            || _picker.Offerable(peer, HaveHoldOfferable) < HaveHoldOfferable)
        {
            session.Send(Outgoing.Have(index));
            return;
        }
        session.HeldHaves.Add(index);
        if (_heldSince == 0)
        {
            _heldSince = _time.GetTimestamp();
            _haveTimer.Change(HaveHoldTime, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Sends every session's held Haves.</summary>
    private void SendHeldHaves()
    {
        if (_heldSince == 0)
        {
            return;
        }
        _heldSince = 0;
        foreach (var session in _sessions)
        {
            SendHeldHaves(session);
        }
    }

    /// <summary>Sends the Haves held for <paramref name="session"/> (those its peer did not announce itself meanwhile).</summary>
    private static void SendHeldHaves(PeerSession session)
    {
        foreach (var index in session.HeldHaves)
        {
            if (NeedsHave(session, index))
            {
                session.Send(Outgoing.Have(index));
            }
        }
        session.HeldHaves.Clear();
    }

    private int TargetPieces(PeerSession session)
    {
        if (session.IsOrigin && _sessions.Exists(s => !s.IsOrigin && s.Peer is not null))
        {
            // With agent peers around, keep one piece in flight from an origin: each round trip then
            // sees the pieces other agents announced meanwhile, so the origin's upload goes to pieces
            // nobody has, not to many copies of the same ones.
            return 1;
        }
        var maxPieces = Math.Max(1, ProtocolConstants.MaxOutstandingRequests / _blocksPerPiece);
        return RequestPipeline.Pieces(session.Rate, session.Latency.Value, Math.Max(1, Info.PieceLength), maxPieces);
    }

    private void SendCancels(PeerSession session, int index)
    {
        var size = Info.PieceSize(index);
        for (var offset = 0; offset < size; offset += PeerSession.BlockSize)
        {
            session.Send(Outgoing.Cancel(index, offset, Math.Min(PeerSession.BlockSize, size - offset)));
        }
    }

    /// <summary>
    /// Whether the agent behind <paramref name="session"/> should hear that we stored piece
    /// <paramref name="index"/>. Not one that announced the piece itself: it never requests it from us,
    /// so the Have would only cost both ends a message (about half of all Haves in a swarm that pulls
    /// together). A peer whose bitfield has not arrived hears every piece.
    /// </summary>
    private static bool NeedsHave(PeerSession session, int index)
        => session.Peer is not { } peer || !peer.Has(index);

    /// <summary>
    /// Whether the origin behind <paramref name="session"/> should hear that we stored piece
    /// <paramref name="index"/>, which came from <paramref name="source"/>. Origins only seed: they
    /// request nothing, and the one thing a Have changes there is an open offer (see
    /// <c>Swarm.SuperSeed</c>), which closes on it so the next piece is offered. So an origin hears of
    /// a piece it offered us (it is in its bitfield as we see it) and that reached us from someone
    /// else; one that said it has everything offers nothing, and one that sent us the piece knows.
    /// Every agent telling every origin of every piece was one message and one loop event on the
    /// origin per piece per agent, for nothing.
    /// </summary>
    private static bool OriginNeedsHave(PeerSession session, int index, PeerSession source)
        => session.Peer is { IsComplete: false } peer && peer.Has(index) && !ReferenceEquals(session, source);

    /// <summary>
    /// Closes a connection whose two ends both have every piece: they have nothing to exchange, and
    /// the slot it holds on each side is what a peer still downloading needs. True when closed.
    /// </summary>
    private bool PartIfBothComplete(PeerSession session)
    {
        if (!File.IsComplete || session.Peer is not { IsComplete: true } || !session.Active)
        {
            return false;
        }
        session.Part();
        Remove(session);
        return true;
    }

    /// <summary>
    /// We are dialling while poorly connected: downloading, with fewer than <see cref="NeedyBelow"/>
    /// ready agent connections. Full peers then make room for us instead of refusing.
    /// </summary>
    private bool IsNeedy()
    {
        if (File.IsComplete || _engine.IsOrigin)
        {
            return false;
        }
        var ready = 0;
        foreach (var session in _sessions)
        {
            if (!session.IsOrigin && session.Peer is not null)
            {
                ready++;
            }
        }
        return ready < NeedyBelow;
    }

    /// <summary>
    /// Full, and a needy peer knocks: closes the agent connection worth least (lowest exchange rate in
    /// both directions; among equals the peer with most pieces, the likeliest to have other sources),
    /// if one is past its grace and the last eviction is not too recent. True when a slot was freed.
    /// </summary>
    private bool MakeRoom()
    {
        var now = _time.GetTimestamp();
        if (_lastEviction != 0 && _time.GetElapsedTime(_lastEviction, now) < EvictionGap)
        {
            return false;
        }
        PeerSession? victim = null;
        foreach (var session in _sessions)
        {
            if (session.IsOrigin || session.Peer is not { } peer || _time.GetElapsedTime(session.ReadyAt, now) < EvictionGrace)
            {
                continue;
            }
            if (victim is null
                || session.ExchangeRate < victim.ExchangeRate
                || (session.ExchangeRate == victim.ExchangeRate && peer.HaveCount > victim.Peer!.HaveCount))
            {
                victim = session;
            }
        }
        if (victim is null)
        {
            return false;
        }
        _lastEviction = now;
        Log.MadeRoom(_logger, Info.Digest, victim.Address, victim.ExchangeRate);
        Drop(victim, PeerErrorCode.Busy, "closed to make room for a peer with no connections");
        return true;
    }

    /// <summary>A peer we dialled answered Busy: back off from it, longer after each refusal in a row.</summary>
    private void NoteRefusal(PeerSession session)
    {
        if (!session.Active || !session.Outgoing)
        {
            return;
        }
        if (session.Refusal != PeerErrorCode.Busy)
        {
            if (session.Peer is not null)
            {
                _busy.Remove(session.Address);
            }
            return;
        }
        var refusals = _busy.TryGetValue(session.Address, out var previous) ? previous.Refusals + 1 : 1;
        var wait = TimeSpan.FromTicks(Math.Min(MaxBusyBackoff.Ticks, BusyBackoff.Ticks << Math.Min(refusals - 1, 16)));
        _busy[session.Address] = (_time.GetTimestamp() + (long)(wait.TotalSeconds * _time.TimestampFrequency), refusals);
        // Dial it again once the back-off is over, without waiting for the tracker to hand it out again.
        if (session.Dialled is { } again && !_candidates.Contains(again))
        {
            _candidates.Add(again);
        }
    }

    private bool InBackoff(string key) => _busy.TryGetValue(key, out var busy) && _time.GetTimestamp() < busy.Until;

    private void Ban(PeerSession session)
    {
        var until = _time.GetTimestamp();
        if (session.Remote is { } remote)
        {
            _banned[remote.PeerId.ToString()] = until;
        }
        _banned[session.Address] = until;
    }

    private bool IsBanned(string key)
        => _banned.TryGetValue(key, out var since) && _time.GetElapsedTime(since) < BanDuration;

    private void Drop(PeerSession session, PeerErrorCode? code, string? text)
    {
        session.Close(code, text);
        Remove(session);
    }

    private void Remove(PeerSession session)
    {
        if (!session.Active)
        {
            return;
        }
        session.Active = false;
        CountReceived(session);
        CloseAllOffers(session);
        if (session.Peer is { } peer)
        {
            _picker.RemovePeer(peer);
        }
        _sessions.Remove(session);
        _addresses.Remove(session.Address);
        _lastActivity = _time.GetTimestamp();
    }

    /// <summary>Adds what the session delivered so far to the download's per-source totals (once per byte).</summary>
    private void CountReceived(PeerSession session)
    {
        var received = session.Received;
        var delta = received - session.CountedBytes;
        session.CountedBytes = received;
        if (session.IsOrigin)
        {
            _fromOrigins += delta;
        }
        else
        {
            _fromAgents += delta;
        }
    }

    /// <summary>The agent connections of the swarm (origins not counted), or only those we dialled.</summary>
    private int AgentSessionCount(bool outgoing = false)
    {
        var count = 0;
        foreach (var session in _sessions)
        {
            if (!session.IsOrigin && (!outgoing || session.Outgoing))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>How many agent connections we dial ourselves: half the per-blob limit (at least one).</summary>
    private int MaxDialled => Math.Max(1, (_engine.Options.MaxConnectionsPerBlob + 1) / 2);

    private int ConnectedCount() => _sessions.Count;

    private void SaveState()
    {
        _stateDirty = false;
        _lastStateSave = _time.GetTimestamp();
        try
        {
            _partials!.SaveState(File);
        }
        catch (IOException ex)
        {
            Log.StateNotSaved(_logger, Info.Digest, ex.Message);
        }
    }

    private void Shutdown()
    {
        _stopping = true;
        _tick?.Dispose();
        _announceTimer?.Dispose();
        _haveTimer?.Dispose();
        _events.Writer.TryComplete();
        while (_events.Reader.TryRead(out var pending))
        {
            if (pending is SwarmEvent.Incoming incoming)
            {
                // Handed to us but never adopted: turned away like any refusal, its budget slot freed once closed.
                _engine.Reject(incoming.Socket, incoming.Connection, PeerErrorCode.Shutdown, "going away");
            }
        }
        foreach (var session in _sessions.ToArray())
        {
            Drop(session, PeerErrorCode.Shutdown, "going away");
        }
        if (_partials is not null && !_committed && !_committing)
        {
            SaveState();
        }
        _engine.Remove(this);
        Download?.Fail(new OperationCanceledException("the download stopped before it completed"));
        Download?.Pulse();
        if (!_committing)
        {
            File.Dispose();
        }
        // Late events (closed connections, announces) find the channel completed and are dropped.
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Piece {Index} of {Digest} from {Address} failed verification; the peer is banned from this swarm")]
        public static partial void CorruptPiece(ILogger logger, int index, Core.Digest digest, string address);

        [LoggerMessage(2, LogLevel.Debug, "Announce of {Digest} failed: {Reason}")]
        public static partial void AnnounceFailed(ILogger logger, Core.Digest digest, string reason);

        [LoggerMessage(3, LogLevel.Error, "Commit of {Digest} failed: {Reason}")]
        public static partial void CommitFailed(ILogger logger, Core.Digest digest, string reason);

        [LoggerMessage(41, LogLevel.Error, "Storing piece {Index} of {Digest} failed, the download stops: {Reason}")]
        public static partial void StoreFailed(ILogger logger, int index, Core.Digest digest, string reason);

        [LoggerMessage(4, LogLevel.Debug, "Swarm of {Digest} is idle; closing it")]
        public static partial void Idle(ILogger logger, Core.Digest digest);

        [LoggerMessage(40, LogLevel.Debug, "{Digest} left the store: its swarm closes")]
        public static partial void Forgotten(ILogger logger, Core.Digest digest);

        [LoggerMessage(5, LogLevel.Warning, "Could not save the download state of {Digest}: {Reason}")]
        public static partial void StateNotSaved(ILogger logger, Core.Digest digest, string reason);

        [LoggerMessage(7, LogLevel.Information, "Downloaded {Digest} ({Length} bytes) in {Seconds:F2} s: {FromOrigins} bytes from origins, {FromAgents} from agents, {Peers} peers")]
        public static partial void Downloaded(ILogger logger, Core.Digest digest, long length, double seconds, long fromOrigins, long fromAgents, int peers);

        [LoggerMessage(8, LogLevel.Debug, "Closed the connection to {Address} in the swarm of {Digest} ({Rate:F0} B/s exchanged) to make room for a peer with no connections")]
        public static partial void MadeRoom(ILogger logger, Core.Digest digest, string address, double rate);

        [LoggerMessage(23, LogLevel.Trace, "Peer {Address} ({Kind}, {Direction}) ready in the swarm of {Digest} with {Pieces} pieces; {Peers} peers now")]
        public static partial void PeerReady(ILogger logger, string address, string kind, string direction, Core.Digest digest, int pieces, int peers);

        [LoggerMessage(24, LogLevel.Trace, "Announce of {Digest} answered with {Peers} peers after {Milliseconds:F0} ms")]
        public static partial void Announced(ILogger logger, Core.Digest digest, int peers, double milliseconds);

        [LoggerMessage(9, LogLevel.Trace, "Piece {Index} of {Digest} stored, from {Address} ({Kind}), {Milliseconds:F0} ms after it was requested")]
        public static partial void PieceStored(ILogger logger, int index, Core.Digest digest, string address, string kind, double milliseconds);

        [LoggerMessage(6, LogLevel.Error, "The swarm loop of {Digest} failed")]
        public static partial void LoopFailed(ILogger logger, Core.Digest digest, Exception exception);
    }
}
