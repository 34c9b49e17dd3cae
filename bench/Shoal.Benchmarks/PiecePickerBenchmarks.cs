using BenchmarkDotNet.Attributes;
using Shoal.P2P;
using Shoal.P2P.Scheduling;

namespace Shoal.Benchmarks;

/// <summary>
/// The piece picker of one download: 1000 pieces, 50 connected peers (one of them an origin with
/// every piece, the others with a random 60 % each). Picking must not allocate.
/// </summary>
[MemoryDiagnoser]
public class PiecePickerBenchmarks
{
    private Bitfield[] _peerPieces = [];
    private PiecePicker _halfDone = null!;
    private PickerPeer[] _halfDonePeers = [];
    private readonly List<PickerPeer> _losers = [];

    [Params(1000)]
    public int Pieces { get; set; }

    [Params(50)]
    public int Peers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        _peerPieces = new Bitfield[Peers];
        for (var p = 0; p < Peers; p++)
        {
            var pieces = new Bitfield(Pieces);
            for (var i = 0; i < Pieces; i++)
            {
                if (p == 0 || random.NextDouble() < 0.6)
                {
                    pieces.Set(i);
                }
            }
            _peerPieces[p] = pieces;
        }

        // Mid-download: we have a random half of the pieces, nothing is requested.
        var have = new Bitfield(Pieces);
        for (var i = 0; i < Pieces; i++)
        {
            if (random.Next(2) == 0)
            {
                have.Set(i);
            }
        }
        (_halfDone, _halfDonePeers) = NewPicker(have);
    }

    /// <summary>
    /// One pick (rarest first, ties at random) for each agent peer in turn, released again so every
    /// invocation sees the same state. Per pick.
    /// </summary>
    [Benchmark(OperationsPerInvoke = 49)]
    public int PickRarestFirst()
    {
        var sum = 0;
        for (var p = 1; p < _halfDonePeers.Length; p++)
        {
            if (_halfDone.TryPick(_halfDonePeers[p], out var index))
            {
                sum += index;
                _halfDone.Release(_halfDonePeers[p], index);
            }
        }
        return sum;
    }

    /// <summary>A pick for the origin, which prefers pieces no agent peer has. Per pick.</summary>
    [Benchmark]
    public int PickFromOrigin()
    {
        var origin = _halfDonePeers[0];
        if (!_halfDone.TryPick(origin, out var index))
        {
            return -1;
        }
        _halfDone.Release(origin, index);
        return index;
    }

    /// <summary>
    /// A whole download: a new picker, the peers' bitfields, then every peer keeps two requests
    /// in flight and completes its oldest, until all pieces are in (endgame included). Per piece;
    /// the allocations are the picker's and the peers' own state, once per download.
    /// </summary>
    [Benchmark(OperationsPerInvoke = 1000)]
    public int WholeDownload()
    {
        var (picker, peers) = NewPicker(have: null);
        var rounds = 0;
        while (!picker.IsComplete && rounds++ < 10 * Pieces)
        {
            foreach (var peer in peers)
            {
                while (peer.RequestCount < 2 && picker.TryPick(peer, out _))
                {
                }
                if (peer.RequestCount > 0)
                {
                    _losers.Clear();
                    picker.MarkHave(peer.Requests[0], peer, _losers);
                }
            }
        }
        return picker.MissingCount;
    }

    private (PiecePicker Picker, PickerPeer[] Peers) NewPicker(Bitfield? have)
    {
        var picker = new PiecePicker(Pieces, new Random(4), TimeProvider.System, have: have);
        var peers = new PickerPeer[Peers];
        for (var p = 0; p < Peers; p++)
        {
            peers[p] = picker.AddPeer(isOrigin: p == 0);
            picker.PeerHasBitfield(peers[p], _peerPieces[p]);
        }
        return (picker, peers);
    }
}
