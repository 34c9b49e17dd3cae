using Shoal.Tracker.Internal;

namespace Shoal.Tracker.Tests;

public sealed class OriginPeerTests
{
    [Theory]
    [InlineData("10.0.0.1:7000", "10.0.0.1", 7000)]
    [InlineData("origin-0.origin.shoal.svc:16001", "origin-0.origin.shoal.svc", 16001)]
    [InlineData("Origin-A:1", "origin-a", 1)]
    [InlineData("[2001:db8::1]:65535", "2001:db8::1", 65535)]
    public void TryParse_ValidAddress_GivesAnOriginPeer(string value, string ip, int port)
    {
        Assert.True(OriginPeer.TryParse(value, out var peer, out var error), error);

        Assert.Equal(ip, peer.Ip);
        Assert.Equal(port, peer.Port);
        Assert.True(peer.Origin);
        Assert.Matches("^[0-9a-f]{40}$", peer.Id);
    }

    [Fact]
    public void TryParse_SameAddressTwice_GivesTheSameId()
    {
        Assert.True(OriginPeer.TryParse("10.0.0.1:7000", out var a, out _));
        Assert.True(OriginPeer.TryParse("10.0.0.1:7000", out var b, out _));
        Assert.True(OriginPeer.TryParse("10.0.0.1:7001", out var c, out _));

        Assert.Equal(a.Id, b.Id);
        Assert.NotEqual(a.Id, c.Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.1")]
    [InlineData("10.0.0.1:0")]
    [InlineData("10.0.0.1:65536")]
    [InlineData("10.0.0.1:http")]
    [InlineData("2001:db8::1:7000")]
    [InlineData("[2001:db8::1]")]
    [InlineData("[10.0.0.1]:7000")]
    [InlineData("bad host:7000")]
    [InlineData(":7000")]
    public void TryParse_InvalidAddress_SaysWhy(string value)
    {
        Assert.False(OriginPeer.TryParse(value, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}
