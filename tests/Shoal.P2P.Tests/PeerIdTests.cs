namespace Shoal.P2P.Tests;

public sealed class PeerIdTests
{
    [Fact]
    public void ToStringAndParse_RoundTrip()
    {
        var id = PeerId.NewRandom();

        var text = id.ToString();

        Assert.Equal(64, text.Length);
        Assert.Equal(text.ToLowerInvariant(), text);
        Assert.Equal(id, PeerId.Parse(text));
        Assert.Equal(id, PeerId.Parse(text.ToUpperInvariant()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("000000000000000000000000000000000000000000000000000000000000000000")]
    public void TryParse_Malformed_ReturnsFalse(string? text)
    {
        Assert.False(PeerId.TryParse(text, out _));
    }

    [Fact]
    public void FromBytesAndWriteTo_RoundTrip()
    {
        var bytes = TestData.RandomBytes(32, 1);
        var written = new byte[32];

        PeerId.FromBytes(bytes).WriteTo(written);

        Assert.Equal(bytes, written);
        Assert.Throws<ArgumentException>(() => PeerId.FromBytes(new byte[20]));
    }

    [Fact]
    public void FromPublicKey_IsSha256OfTheKey()
    {
        var key = TestData.RandomBytes(91, 2);

        var id = PeerId.FromPublicKey(key);

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(key)), id.ToString());
        Assert.NotEqual(id, PeerId.FromPublicKey(TestData.RandomBytes(91, 3)));
    }
}
