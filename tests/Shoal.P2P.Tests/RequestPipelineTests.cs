using Microsoft.Extensions.Time.Testing;
using Shoal.P2P.Scheduling;

namespace Shoal.P2P.Tests;

public sealed class RequestPipelineTests
{
    private const int Piece = 64 * 1024;

    [Fact]
    public void Pieces_ShortRoundTrips_KeepATenthOfASecondOfThePeersRate()
    {
        // 12.5 MB/s (100 Mbit/s) with 5 ms round trips: 1.25 MB, 20 pieces of 64 KiB.
        Assert.Equal(20, RequestPipeline.Pieces(12_500_000, TimeSpan.FromMilliseconds(5), Piece, 1024));
    }

    [Fact]
    public void Pieces_NewOrSlowPeer_GetsTheFloor()
    {
        Assert.Equal(2, RequestPipeline.Pieces(0, TimeSpan.Zero, Piece, 1024));
        Assert.Equal(2, RequestPipeline.Pieces(100_000, TimeSpan.FromMilliseconds(1), Piece, 1024));
        Assert.Equal(1, RequestPipeline.Pieces(0, TimeSpan.Zero, 4 * 1024 * 1024, 1024));
    }

    [Fact]
    public void Pieces_LongRoundTrip_CoversMoreThanOneRoundTripSoTheRateCanGrow()
    {
        // A lone agent 200 ms away from its origin, delivering 5 MB/s so far: a pipeline of a tenth of a
        // second would hold only half a round trip's worth and cap the rate below what it is; covering
        // twice the round trip lets the next sample be higher than this one.
        var rate = 5_000_000.0;
        var roundTrip = TimeSpan.FromMilliseconds(200);
        var pieces = RequestPipeline.Pieces(rate, roundTrip, Piece, 1024);

        var capacityPerSecond = pieces * (double)Piece / roundTrip.TotalSeconds;
        Assert.True(capacityPerSecond >= 1.9 * rate, $"{pieces} pieces per {roundTrip.TotalMilliseconds} ms carry {capacityPerSecond:F0} B/s");
    }

    [Fact]
    public void Pieces_AreBoundedByTheProtocolsLimit()
    {
        Assert.Equal(16, RequestPipeline.Pieces(1e12, TimeSpan.FromSeconds(1), Piece, 16));
    }

    [Fact]
    public void Pieces_RejectsNonsense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RequestPipeline.Pieces(1, TimeSpan.Zero, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => RequestPipeline.Pieces(1, TimeSpan.Zero, Piece, 0));
    }

    [Fact]
    public void RecentMinimum_KeepsTheShortestSampleForItsWindowThenGivesWay()
    {
        var time = new FakeTimeProvider();
        var minimum = new RecentMinimum();
        Assert.Equal(TimeSpan.Zero, minimum.Value);

        minimum.Add(TimeSpan.FromMilliseconds(30), time.GetTimestamp(), time);
        minimum.Add(TimeSpan.FromMilliseconds(80), time.GetTimestamp(), time);
        Assert.Equal(TimeSpan.FromMilliseconds(30), minimum.Value);

        minimum.Add(TimeSpan.FromMilliseconds(10), time.GetTimestamp(), time);
        Assert.Equal(TimeSpan.FromMilliseconds(10), minimum.Value);

        time.Advance(RecentMinimum.Window - TimeSpan.FromSeconds(1));
        minimum.Add(TimeSpan.FromMilliseconds(90), time.GetTimestamp(), time);
        Assert.Equal(TimeSpan.FromMilliseconds(10), minimum.Value);

        time.Advance(TimeSpan.FromSeconds(2)); // the 10 ms sample is now older than the window
        minimum.Add(TimeSpan.FromMilliseconds(90), time.GetTimestamp(), time);
        Assert.Equal(TimeSpan.FromMilliseconds(90), minimum.Value);
    }
}
