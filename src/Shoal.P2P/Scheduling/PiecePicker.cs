using System.Numerics;

namespace Shoal.P2P.Scheduling;

/// <summary>
/// Decides which piece to request from which peer. Pure and single-threaded: it does no I/O, owns
/// no timer, and given the same calls and a <see cref="Random"/> with the same seed makes the same
/// choices. The scheduler loop that owns it feeds it what peers announce and what we verify, asks
/// it for pieces to request, and acts on what it returns (cancels, re-requests).
/// </summary>
/// <remarks>
/// <para>Rules, in order, for a peer asking for work (<see cref="TryPick"/>):</para>
/// <list type="number">
/// <item>Only pieces the peer has and we lack. Outside endgame, only pieces not requested from anyone.</item>
/// <item>Origin awareness: from an origin, pieces that no agent peer has come first, so origin
/// upload goes to data the swarm cannot supply; only when there is none does an origin get any
/// other piece.</item>
/// <item>Frontier: when a reader waits at piece X (<see cref="SetFrontier"/>), the first eligible
/// piece in [X, X + <see cref="PiecePickerOptions.FrontierWindow"/>) in index order.</item>
/// <item>Otherwise rarest first: the eligible piece the fewest connected peers have, ties broken
/// uniformly at random (so peers starting together fetch different pieces).</item>
/// <item>Endgame (every missing piece is requested): a piece already requested from other peers but
/// not from this one, fewest requesters first, up to <see cref="PiecePickerOptions.MaxRequestsPerPiece"/>;
/// <see cref="MarkHave"/> then reports the losing requesters to cancel.</item>
/// </list>
/// <para>A pick costs one pass over the bitfield words (64 pieces per step) plus one look-up per
/// candidate piece, and allocates nothing.</para>
/// </remarks>
public sealed class PiecePicker
{
    private const ulong HighBit = 1UL << 63;

    private readonly Random _random;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _requestTimeout;
    private readonly int _maxRequestsPerPiece;
    private readonly int _frontierWindow;
    private readonly Bitfield _have;
    private readonly Bitfield _requested;
    private readonly int[] _availability;
    private readonly int[] _agentAvailability;
    private readonly byte[] _requestCounts;
    private readonly PickerPeer?[] _requesters;
    private readonly long[] _requestedAt;
    private readonly List<PickerPeer> _peers = [];
    private int _unrequestedMissing;
    private int _frontier = -1;

    /// <summary>Creates the picker of a blob of <paramref name="pieceCount"/> pieces.</summary>
    /// <param name="pieceCount">The number of pieces.</param>
    /// <param name="random">The source of tie-breaks (seeded in tests).</param>
    /// <param name="timeProvider">The clock of request timeouts.</param>
    /// <param name="options">Tuning; defaults when null.</param>
    /// <param name="have">Pieces we already have (a resumed download); copied.</param>
    public PiecePicker(int pieceCount, Random random, TimeProvider timeProvider, PiecePickerOptions? options = null, Bitfield? have = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options ??= new PiecePickerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.RequestTimeout, TimeSpan.Zero, "options.RequestTimeout");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRequestsPerPiece, 1, "options.MaxRequestsPerPiece");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxRequestsPerPiece, 16, "options.MaxRequestsPerPiece");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.FrontierWindow, 1, "options.FrontierWindow");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.FrontierWindow, 1024, "options.FrontierWindow");
        _random = random;
        _timeProvider = timeProvider;
        _requestTimeout = options.RequestTimeout;
        _maxRequestsPerPiece = options.MaxRequestsPerPiece;
        _frontierWindow = options.FrontierWindow;
        PieceCount = pieceCount;
        _have = new Bitfield(pieceCount);
        if (have is not null)
        {
            _have.CopyFrom(have);
        }
        _requested = new Bitfield(pieceCount);
        _availability = new int[pieceCount];
        _agentAvailability = new int[pieceCount];
        _requestCounts = new byte[pieceCount];
        _requesters = new PickerPeer?[(long)pieceCount * _maxRequestsPerPiece];
        _requestedAt = new long[_requesters.Length];
        _unrequestedMissing = _have.ClearCount;
    }

    /// <summary>The number of pieces.</summary>
    public int PieceCount { get; }

    /// <summary>The number of pieces we still lack.</summary>
    public int MissingCount => _have.ClearCount;

    /// <summary>True when we have every piece.</summary>
    public bool IsComplete => _have.IsFull;

    /// <summary>True when pieces are missing and every missing piece is requested: duplicates are now allowed.</summary>
    public bool IsEndgame => _unrequestedMissing == 0 && !_have.IsFull;

    /// <summary>The piece a reader waits at, if any.</summary>
    public int? Frontier => _frontier < 0 ? null : _frontier;

    /// <summary>The connected peers, in the order they were added.</summary>
    public IReadOnlyList<PickerPeer> Peers => _peers;

    /// <summary>True when we have piece <paramref name="index"/>.</summary>
    public bool Has(int index) => _have[index];

    /// <summary>How many pieces we have that <paramref name="peer"/> lacks, counting no further than <paramref name="limit"/>.</summary>
    public int Offerable(PickerPeer peer, int limit)
    {
        CheckPeer(peer);
        return _have.CountSetNotIn(peer.Pieces, limit);
    }

    /// <summary>How many connected peers (agents and origins) have piece <paramref name="index"/>.</summary>
    public int Availability(int index) => _availability[CheckIndex(index)];

    /// <summary>How many connected agent peers (not origins) have piece <paramref name="index"/>.</summary>
    public int AgentAvailability(int index) => _agentAvailability[CheckIndex(index)];

    /// <summary>How many peers piece <paramref name="index"/> is requested from.</summary>
    public int RequestCount(int index) => _requestCounts[CheckIndex(index)];

    /// <summary>True when piece <paramref name="index"/> is requested from <paramref name="peer"/>.</summary>
    public bool IsRequestedFrom(PickerPeer peer, int index)
    {
        CheckPeer(peer);
        return FindSlot(CheckIndex(index), peer) >= 0;
    }

    /// <summary>How long ago piece <paramref name="index"/> was requested from <paramref name="peer"/>; null when it is not.</summary>
    public TimeSpan? RequestAge(PickerPeer peer, int index)
    {
        CheckPeer(peer);
        var slot = FindSlot(CheckIndex(index), peer);
        return slot < 0 ? null : _timeProvider.GetElapsedTime(_requestedAt[slot]);
    }

    /// <summary>Adds a connected peer, having no pieces until told otherwise.</summary>
    public PickerPeer AddPeer(bool isOrigin, object? tag = null)
    {
        var peer = new PickerPeer(this, PieceCount, isOrigin, tag);
        _peers.Add(peer);
        return peer;
    }

    /// <summary>Removes a disconnected peer: its pieces no longer count, and its requests are released.</summary>
    public void RemovePeer(PickerPeer peer)
    {
        CheckPeer(peer);
        for (var i = peer.RequestList.Count - 1; i >= 0; i--)
        {
            RemoveRequest(peer, peer.RequestList[i]);
        }
        foreach (var index in peer.Pieces.SetBits())
        {
            _availability[index]--;
            if (!peer.IsOrigin)
            {
                _agentAvailability[index]--;
            }
        }
        peer.Removed = true;
        _peers.Remove(peer);
    }

    /// <summary>The peer announced the set bits of <paramref name="pieces"/> (its Bitfield message).</summary>
    public void PeerHasBitfield(PickerPeer peer, Bitfield pieces)
    {
        CheckPeer(peer);
        ArgumentNullException.ThrowIfNull(pieces);
        peer.Pieces.CheckSameLength(pieces);
        foreach (var index in pieces.SetBits())
        {
            AddAvailability(peer, index);
        }
    }

    /// <summary>The peer announced piece <paramref name="index"/> (a HavePiece message).</summary>
    public void PeerHas(PickerPeer peer, int index)
    {
        CheckPeer(peer);
        AddAvailability(peer, CheckIndex(index));
    }

    /// <summary>The peer announced it has every piece (a Complete message).</summary>
    public void PeerHasAll(PickerPeer peer)
    {
        CheckPeer(peer);
        for (var index = peer.Pieces.NextClear(0); index >= 0; index = peer.Pieces.NextClear(index + 1))
        {
            AddAvailability(peer, index);
        }
    }

    /// <summary>
    /// Sets the piece a reader waits at (frontier mode), or clears it with null. Pieces from there
    /// on, within <see cref="PiecePickerOptions.FrontierWindow"/>, are then picked in order first.
    /// </summary>
    public void SetFrontier(int? pieceIndex)
    {
        _frontier = pieceIndex is { } index ? CheckIndex(index) : -1;
    }

    /// <summary>
    /// Picks a piece to request from <paramref name="peer"/> and records the request; false when
    /// the peer has nothing we may request from it now.
    /// </summary>
    public bool TryPick(PickerPeer peer, out int index)
    {
        CheckPeer(peer);
        index = -1;
        if (_have.IsFull)
        {
            return false;
        }
        var duplicate = IsEndgame;
        if ((peer.IsOrigin && TryPickCore(peer, duplicate, agentless: true, out index))
            || TryPickCore(peer, duplicate, agentless: false, out index))
        {
            AddRequest(peer, index);
            return true;
        }
        return false;
    }

    /// <summary>Picks up to <c>destination.Length</c> pieces for <paramref name="peer"/>; returns how many.</summary>
    public int Pick(PickerPeer peer, Span<int> destination)
    {
        var count = 0;
        while (count < destination.Length && TryPick(peer, out var index))
        {
            destination[count++] = index;
        }
        return count;
    }

    /// <summary>
    /// Releases the request of piece <paramref name="index"/> from <paramref name="peer"/> (cancelled,
    /// refused, or its data failed verification) so the piece can be picked again; false when there was none.
    /// </summary>
    public bool Release(PickerPeer peer, int index)
    {
        CheckPeer(peer);
        return RemoveRequest(peer, CheckIndex(index));
    }

    /// <summary>
    /// Records that piece <paramref name="index"/> is verified and stored. Every request of it is
    /// released; the requesters other than <paramref name="from"/> are added to
    /// <paramref name="losers"/> (send them a Cancel). Returns false when we already had the piece.
    /// </summary>
    public bool MarkHave(int index, PickerPeer? from = null, ICollection<PickerPeer>? losers = null)
    {
        CheckIndex(index);
        if (!_have.Set(index))
        {
            return false;
        }
        if (!_requested[index])
        {
            _unrequestedMissing--;
        }
        var start = index * _maxRequestsPerPiece;
        for (var slot = start; slot < start + _maxRequestsPerPiece; slot++)
        {
            if (_requesters[slot] is { } requester)
            {
                RemoveRequest(requester, index);
                if (!ReferenceEquals(requester, from))
                {
                    losers?.Add(requester);
                }
            }
        }
        return true;
    }

    /// <summary>
    /// Releases every request older than <see cref="PiecePickerOptions.RequestTimeout"/>, adding each
    /// to <paramref name="expired"/> (cancel them; the pieces can now be picked from other peers).
    /// Returns how many expired.
    /// </summary>
    public int ExpireRequests(ICollection<PieceRequest> expired)
    {
        ArgumentNullException.ThrowIfNull(expired);
        var now = _timeProvider.GetTimestamp();
        var count = 0;
        foreach (var peer in _peers)
        {
            for (var i = peer.RequestList.Count - 1; i >= 0; i--)
            {
                var index = peer.RequestList[i];
                var slot = FindSlot(index, peer);
                if (_timeProvider.GetElapsedTime(_requestedAt[slot], now) >= _requestTimeout)
                {
                    RemoveRequest(peer, index);
                    expired.Add(new PieceRequest(peer, index));
                    count++;
                }
            }
        }
        return count;
    }

    /// <summary>How long until the oldest outstanding request expires (zero if overdue), or null when nothing is requested.</summary>
    public TimeSpan? NextExpiry()
    {
        var now = _timeProvider.GetTimestamp();
        TimeSpan? next = null;
        foreach (var peer in _peers)
        {
            foreach (var index in peer.RequestList)
            {
                var left = _requestTimeout - _timeProvider.GetElapsedTime(_requestedAt[FindSlot(index, peer)], now);
                if (left < TimeSpan.Zero)
                {
                    left = TimeSpan.Zero;
                }
                if (next is null || left < next)
                {
                    next = left;
                }
            }
        }
        return next;
    }

    private bool TryPickCore(PickerPeer peer, bool duplicate, bool agentless, out int index)
    {
        if (_frontier >= 0)
        {
            var end = Math.Min(PieceCount, _frontier + _frontierWindow);
            for (var i = _frontier; i < end; i++)
            {
                if (peer.Pieces[i] && !_have[i] && IsEligible(peer, i, duplicate, agentless))
                {
                    index = i;
                    return true;
                }
            }
        }

        // Rarest first (fewest requesters first in endgame), reservoir-sampling the ties so each
        // equally good piece is chosen with equal probability in one pass.
        index = -1;
        var best = int.MaxValue;
        var ties = 0;
        var peerWords = peer.Pieces.Words;
        var haveWords = _have.Words;
        var requestedWords = _requested.Words;
        for (var w = 0; w < peerWords.Length; w++)
        {
            var candidates = peerWords[w] & ~haveWords[w] & (duplicate ? requestedWords[w] : ~requestedWords[w]);
            while (candidates != 0)
            {
                var bit = BitOperations.LeadingZeroCount(candidates);
                candidates &= ~(HighBit >> bit);
                var i = (w << 6) + bit;
                if (duplicate && !IsEligible(peer, i, duplicate: true, agentless))
                {
                    continue;
                }
                if (agentless && _agentAvailability[i] != 0)
                {
                    continue;
                }
                var score = duplicate ? _requestCounts[i] : _availability[i];
                if (score < best)
                {
                    best = score;
                    index = i;
                    ties = 1;
                }
                else if (score == best && _random.Next(++ties) == 0)
                {
                    index = i;
                }
            }
        }
        return index >= 0;
    }

    private bool IsEligible(PickerPeer peer, int index, bool duplicate, bool agentless)
    {
        if (agentless && _agentAvailability[index] != 0)
        {
            return false;
        }
        if (!duplicate)
        {
            return !_requested[index];
        }
        return _requestCounts[index] > 0 && _requestCounts[index] < _maxRequestsPerPiece && FindSlot(index, peer) < 0;
    }

    private void AddAvailability(PickerPeer peer, int index)
    {
        if (peer.Pieces.Set(index))
        {
            _availability[index]++;
            if (!peer.IsOrigin)
            {
                _agentAvailability[index]++;
            }
        }
    }

    private void AddRequest(PickerPeer peer, int index)
    {
        var start = index * _maxRequestsPerPiece;
        for (var slot = start; slot < start + _maxRequestsPerPiece; slot++)
        {
            if (_requesters[slot] is null)
            {
                _requesters[slot] = peer;
                _requestedAt[slot] = _timeProvider.GetTimestamp();
                break;
            }
        }
        if (_requestCounts[index]++ == 0)
        {
            _requested.Set(index);
            _unrequestedMissing--;
        }
        peer.RequestList.Add(index);
    }

    private bool RemoveRequest(PickerPeer peer, int index)
    {
        var slot = FindSlot(index, peer);
        if (slot < 0)
        {
            return false;
        }
        _requesters[slot] = null;
        if (--_requestCounts[index] == 0)
        {
            _requested.Clear(index);
            if (!_have[index])
            {
                _unrequestedMissing++;
            }
        }
        peer.RequestList.Remove(index);
        return true;
    }

    private int FindSlot(int index, PickerPeer peer)
    {
        var start = index * _maxRequestsPerPiece;
        for (var slot = start; slot < start + _maxRequestsPerPiece; slot++)
        {
            if (ReferenceEquals(_requesters[slot], peer))
            {
                return slot;
            }
        }
        return -1;
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)PieceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"piece index must be in [0, {PieceCount})");
        }
        return index;
    }

    private void CheckPeer(PickerPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!ReferenceEquals(peer.Owner, this) || peer.Removed)
        {
            throw new InvalidOperationException("the peer is not (or no longer) part of this picker");
        }
    }
}
