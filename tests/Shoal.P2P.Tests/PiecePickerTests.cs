using Microsoft.Extensions.Time.Testing;
using Shoal.P2P.Scheduling;

namespace Shoal.P2P.Tests;

public sealed class PiecePickerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryPick_PiecesWithDifferentAvailability_PicksTheRarestFirst()
    {
        var picker = NewPicker(6);
        var seeder = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(seeder);
        var others = Enumerable.Range(0, 3).Select(_ => picker.AddPeer(isOrigin: false)).ToList();
        // Availability: piece 4 → 1 (seeder only), 2 → 2, everything else → 4.
        foreach (var piece in new[] { 0, 1, 3, 5 })
        {
            others.ForEach(o => picker.PeerHas(o, piece));
        }
        picker.PeerHas(others[0], 2);

        var order = Enumerable.Range(0, 6).Select(_ => Pick(picker, seeder)).ToList();

        Assert.Equal(4, order[0]);
        Assert.Equal(2, order[1]);
        Assert.Equal(new[] { 0, 1, 3, 5 }, order.Skip(2).Order());
        Assert.Equal(1, picker.Availability(4));
        Assert.Equal(2, picker.Availability(2));
    }

    [Fact]
    public void TryPick_EqualAvailability_TieBreakIsRandomAndRoughlyUniform()
    {
        const int pieces = 8;
        const int trials = 1600;
        var counts = new int[pieces];
        var firstPicks = new HashSet<string>();
        for (var seed = 0; seed < trials; seed++)
        {
            var picker = NewPicker(pieces, seed);
            var peer = picker.AddPeer(isOrigin: false);
            picker.PeerHasAll(peer);
            var sequence = Enumerable.Range(0, pieces).Select(_ => Pick(picker, peer)).ToList();
            counts[sequence[0]]++;
            firstPicks.Add(string.Join(',', sequence));
        }

        // Expected 200 per piece; a degenerate tie-break (always first or last) would give 1600 and 0.
        Assert.All(counts, c => Assert.InRange(c, 140, 260));
        Assert.True(firstPicks.Count > trials / 2, $"only {firstPicks.Count} distinct orders in {trials} trials");
    }

    [Fact]
    public void TryPick_SameSeedAndCalls_SameChoices()
    {
        static List<int> Run(FakeTimeProvider time)
        {
            var picker = new PiecePicker(100, new Random(7), time);
            var a = picker.AddPeer(isOrigin: false);
            var b = picker.AddPeer(isOrigin: false);
            picker.PeerHasAll(a);
            for (var i = 0; i < 100; i += 3)
            {
                picker.PeerHas(b, i);
            }
            var picks = new int[50];
            var n = picker.Pick(a, picks.AsSpan(0, 25));
            n += picker.Pick(b, picks.AsSpan(25));
            return [.. picks[..n]];
        }

        Assert.Equal(Run(_time), Run(_time));
    }

    [Fact]
    public void TryPick_OnlyPiecesThePeerHasAndWeLack()
    {
        var picker = NewPicker(10, have: [0, 1]);
        var peer = picker.AddPeer(isOrigin: false);
        foreach (var piece in new[] { 1, 2, 3 })
        {
            picker.PeerHas(peer, piece);
        }

        var picks = new int[10];
        var n = picker.Pick(peer, picks);

        Assert.Equal(new[] { 2, 3 }, picks[..n].Order());
        Assert.Equal(8, picker.MissingCount);
    }

    [Fact]
    public void TryPick_FrontierSet_PicksFromTheFrontierInOrderThenRarestFirst()
    {
        var picker = NewPicker(40, have: [11], options: new PiecePickerOptions { FrontierWindow = 4 });
        var peer = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(peer);
        var common = picker.AddPeer(isOrigin: false);
        for (var i = 0; i < 40; i++)
        {
            if (i != 30)
            {
                picker.PeerHas(common, i);
            }
        }
        picker.SetFrontier(10);

        var picks = Enumerable.Range(0, 4).Select(_ => Pick(picker, peer)).ToList();

        // 11 we have; the window is [10, 14); after it, the rarest piece (30) wins.
        Assert.Equal(new[] { 10, 12, 13, 30 }, picks);
        Assert.Equal(10, picker.Frontier);
    }

    [Fact]
    public void TryPick_FrontierPieceThePeerLacks_IsSkippedForThatPeer()
    {
        var picker = NewPicker(20);
        var peer = picker.AddPeer(isOrigin: false);
        picker.PeerHas(peer, 6);
        picker.PeerHas(peer, 19);
        picker.SetFrontier(5);

        Assert.Equal(6, Pick(picker, peer));
        picker.SetFrontier(null);
        Assert.Null(picker.Frontier);
        Assert.Equal(19, Pick(picker, peer));
    }

    [Fact]
    public void TryPick_BeforeEveryMissingPieceIsRequested_NeverDuplicates()
    {
        var picker = NewPicker(4);
        var a = picker.AddPeer(isOrigin: false);
        var b = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(a);
        picker.PeerHasAll(b);

        var fromA = Enumerable.Range(0, 3).Select(_ => Pick(picker, a)).ToList();
        Assert.False(picker.IsEndgame);
        var fromB = Pick(picker, b);

        Assert.DoesNotContain(fromB, fromA);
        Assert.True(picker.IsEndgame);
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(1, picker.RequestCount(i)));
    }

    [Fact]
    public void TryPick_InEndgame_DuplicatesUpToTheLimitAndReportsLosers()
    {
        var picker = NewPicker(2, options: new PiecePickerOptions { MaxRequestsPerPiece = 3 });
        var peers = Enumerable.Range(0, 5).Select(_ => picker.AddPeer(isOrigin: false)).ToList();
        peers.ForEach(picker.PeerHasAll);
        var first = Pick(picker, peers[0]);
        var second = Pick(picker, peers[1]);
        Assert.True(picker.IsEndgame);

        // Fewest requesters first: peers 2 and 3 each duplicate a different piece, then 4 adds a third copy.
        var dup2 = Pick(picker, peers[2]);
        var dup3 = Pick(picker, peers[3]);
        var dup4 = Pick(picker, peers[4]);
        Assert.NotEqual(first, second);
        Assert.NotEqual(dup2, dup3);
        Assert.Equal(3, picker.RequestCount(dup4));
        Assert.Equal(2, picker.RequestCount(1 - dup4));
        Assert.All(peers, p => Assert.Equal(p.Requests.Count, p.Requests.Distinct().Count()));

        // A peer already requesting the other piece gets nothing: the full piece is at the limit.
        var holder = peers.First(p => p.Requests.Contains(1 - dup4));
        Assert.False(picker.TryPick(holder, out _));

        var losers = new List<PickerPeer>();
        Assert.True(picker.MarkHave(dup4, from: peers[4], losers));

        Assert.Equal(2, losers.Count);
        Assert.DoesNotContain(peers[4], losers);
        Assert.Equal(0, picker.RequestCount(dup4));
        Assert.All(peers, p => Assert.DoesNotContain(dup4, p.Requests));
    }

    [Fact]
    public void TryPick_MaxRequestsPerPieceOne_NoEndgameDuplicates()
    {
        var picker = NewPicker(1, options: new PiecePickerOptions { MaxRequestsPerPiece = 1 });
        var a = picker.AddPeer(isOrigin: false);
        var b = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(a);
        picker.PeerHasAll(b);

        Assert.Equal(0, Pick(picker, a));
        Assert.False(picker.TryPick(b, out _));
    }

    [Fact]
    public void ExpireRequests_OlderThanTimeout_ReleasedForAnotherPeer()
    {
        var picker = NewPicker(1, options: new PiecePickerOptions { RequestTimeout = TimeSpan.FromSeconds(4), MaxRequestsPerPiece = 1 });
        var slow = picker.AddPeer(isOrigin: false);
        var fast = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(slow);
        picker.PeerHasAll(fast);
        Assert.Equal(0, Pick(picker, slow));
        Assert.False(picker.TryPick(fast, out _));
        var expired = new List<PieceRequest>();

        _time.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromTicks(1));
        Assert.Equal(0, picker.ExpireRequests(expired));
        Assert.Equal(TimeSpan.FromTicks(1), picker.NextExpiry());
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, picker.ExpireRequests(expired));

        Assert.Equal(new[] { new PieceRequest(slow, 0) }, expired);
        Assert.Equal(0, slow.RequestCount);
        Assert.Equal(0, Pick(picker, fast));
        Assert.Equal(TimeSpan.FromSeconds(4), picker.NextExpiry());
    }

    [Fact]
    public void NextExpiry_NothingRequested_IsNull()
    {
        Assert.Null(NewPicker(3).NextExpiry());
    }

    [Fact]
    public void TryPick_FromOrigin_PrefersPiecesNoAgentHas()
    {
        var picker = NewPicker(10);
        var origin = picker.AddPeer(isOrigin: true);
        picker.PeerHasAll(origin);
        var agent = picker.AddPeer(isOrigin: false);
        for (var i = 0; i < 5; i++)
        {
            picker.PeerHas(agent, i);
        }

        var fromOrigin = Enumerable.Range(0, 5).Select(_ => Pick(picker, origin)).ToList();
        var fromAgent = Enumerable.Range(0, 5).Select(_ => Pick(picker, agent)).ToList();

        Assert.Equal(new[] { 5, 6, 7, 8, 9 }, fromOrigin.Order());
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, fromAgent.Order());
        Assert.Equal(0, picker.AgentAvailability(7));
        Assert.Equal(1, picker.Availability(7));
    }

    [Fact]
    public void TryPick_FromOriginWhenAgentsHaveEverything_FallsBackToAnyPiece()
    {
        var picker = NewPicker(3);
        var origin = picker.AddPeer(isOrigin: true);
        var agent = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(origin);
        picker.PeerHasAll(agent);

        Assert.True(picker.TryPick(origin, out var piece));
        Assert.InRange(piece, 0, 2);
    }

    [Fact]
    public void RemovePeer_ReleasesItsRequestsAndAvailability()
    {
        var picker = NewPicker(3);
        var a = picker.AddPeer(isOrigin: false);
        var b = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(a);
        picker.PeerHasAll(b);
        var picks = new int[3];
        Assert.Equal(3, picker.Pick(a, picks));
        Assert.True(picker.IsEndgame);

        picker.RemovePeer(a);

        Assert.False(picker.IsEndgame);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(1, picker.Availability(i)));
        Assert.Equal(3, picker.Pick(b, picks));
        Assert.Throws<InvalidOperationException>(() => picker.TryPick(a, out _));
    }

    [Fact]
    public void Release_CancelledRequest_PieceCanBePickedAgain()
    {
        var picker = NewPicker(1);
        var a = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(a);
        Assert.Equal(0, Pick(picker, a));

        Assert.True(picker.Release(a, 0));
        Assert.False(picker.Release(a, 0));
        Assert.Equal(0, Pick(picker, a));
    }

    [Fact]
    public void MarkHave_LastPiece_CompletesAndStopsPicking()
    {
        var picker = NewPicker(2);
        var a = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(a);

        picker.MarkHave(Pick(picker, a), a);
        picker.MarkHave(Pick(picker, a), a);

        Assert.True(picker.IsComplete);
        Assert.False(picker.IsEndgame);
        Assert.False(picker.TryPick(a, out _));
        Assert.False(picker.MarkHave(0));
    }

    [Fact]
    public void PeerHasBitfield_CountsAvailabilityOnce()
    {
        var picker = NewPicker(9);
        var peer = picker.AddPeer(isOrigin: false);
        var bits = new Bitfield(9);
        bits.Set(8);
        picker.PeerHas(peer, 8);

        picker.PeerHasBitfield(peer, bits);

        Assert.Equal(1, picker.Availability(8));
        Assert.Equal(1, peer.HaveCount);
        Assert.Throws<ArgumentException>(() => picker.PeerHasBitfield(peer, new Bitfield(10)));
    }

    [Fact]
    public void RandomOperations_BookkeepingMatchesABruteForceModel()
    {
        var random = new Random(99);
        var picker = NewPicker(50, options: new PiecePickerOptions { MaxRequestsPerPiece = 3, RequestTimeout = TimeSpan.FromSeconds(5) });
        var peers = new List<PickerPeer>();
        for (var step = 0; step < 20_000 && !picker.IsComplete; step++)
        {
            switch (random.Next(10))
            {
                case 0 when peers.Count < 6:
                    peers.Add(picker.AddPeer(isOrigin: random.Next(4) == 0));
                    break;
                case 1 when peers.Count > 0 && random.Next(20) == 0:
                    var gone = peers[random.Next(peers.Count)];
                    picker.RemovePeer(gone);
                    peers.Remove(gone);
                    break;
                case 2 when peers.Count > 0:
                    picker.PeerHas(peers[random.Next(peers.Count)], random.Next(50));
                    break;
                case 3 or 4 or 5 when peers.Count > 0:
                    var peer = peers[random.Next(peers.Count)];
                    var wasEndgame = picker.IsEndgame;
                    if (picker.TryPick(peer, out var piece))
                    {
                        Assert.True(peer.Has(piece));
                        Assert.False(picker.Has(piece));
                        Assert.True(wasEndgame || picker.RequestCount(piece) == 1, "a duplicate outside endgame");
                        Assert.InRange(picker.RequestCount(piece), 1, 3);
                    }
                    break;
                case 6 when peers.Count > 0:
                    var requester = peers[random.Next(peers.Count)];
                    if (requester.RequestCount > 0)
                    {
                        var done = requester.Requests[random.Next(requester.RequestCount)];
                        if (random.Next(3) == 0)
                        {
                            picker.Release(requester, done);
                        }
                        else
                        {
                            picker.MarkHave(done, requester, new List<PickerPeer>());
                        }
                    }
                    break;
                case 7:
                    _time.Advance(TimeSpan.FromSeconds(1));
                    picker.ExpireRequests(new List<PieceRequest>());
                    break;
            }
            CheckModel(picker, peers);
        }
    }

    private static void CheckModel(PiecePicker picker, List<PickerPeer> peers)
    {
        var allRequested = true;
        for (var i = 0; i < picker.PieceCount; i++)
        {
            Assert.Equal(peers.Count(p => p.Has(i)), picker.Availability(i));
            Assert.Equal(peers.Count(p => !p.IsOrigin && p.Has(i)), picker.AgentAvailability(i));
            var requesters = peers.Count(p => p.Requests.Contains(i));
            Assert.Equal(requesters, picker.RequestCount(i));
            if (picker.Has(i))
            {
                Assert.Equal(0, requesters);
            }
            else if (requesters == 0)
            {
                allRequested = false;
            }
        }
        Assert.Equal(allRequested && !picker.IsComplete, picker.IsEndgame);
    }

    [Fact]
    public void RequestAge_IsTheTimeSinceThePieceWasRequestedFromThatPeer()
    {
        var picker = NewPicker(4);
        var first = picker.AddPeer(isOrigin: false);
        var second = picker.AddPeer(isOrigin: false);
        picker.PeerHasAll(first);
        picker.PeerHasAll(second);
        var index = Pick(picker, first);
        Assert.Null(picker.RequestAge(second, index));

        _time.Advance(TimeSpan.FromMilliseconds(30));

        Assert.Equal(TimeSpan.FromMilliseconds(30), picker.RequestAge(first, index));
        picker.MarkHave(index, first);
        Assert.Null(picker.RequestAge(first, index));
    }

    private PiecePicker NewPicker(int pieces, int seed = 1, int[]? have = null, PiecePickerOptions? options = null)
    {
        Bitfield? haveBits = null;
        if (have is not null)
        {
            haveBits = new Bitfield(pieces);
            foreach (var i in have)
            {
                haveBits.Set(i);
            }
        }
        return new PiecePicker(pieces, new Random(seed), _time, options, haveBits);
    }

    private static int Pick(PiecePicker picker, PickerPeer peer)
    {
        Assert.True(picker.TryPick(peer, out var index), "expected a piece to pick");
        return index;
    }
}
