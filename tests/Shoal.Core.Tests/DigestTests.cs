using Shoal.Core;

namespace Shoal.Core.Tests;

public sealed class DigestTests
{
    private const string EmptySha256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Parse_ValidSha256_RoundTrips()
    {
        var digest = Digest.Parse(EmptySha256);
        Assert.Equal("sha256", digest.Algorithm);
        Assert.Equal(EmptySha256, digest.ToString());
        Assert.Equal(digest, Digest.Compute([]));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("sha256", "algorithm:hex")]
    [InlineData("sha256:", "algorithm:hex")]
    [InlineData(":abc", "algorithm:hex")]
    [InlineData("sha256:abc", "64 hex")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "lowercase")]
    [InlineData("sha256:zzb0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "lowercase hex")]
    [InlineData("SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "malformed algorithm")]
    [InlineData("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", "not supported")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e", "not supported")]
    public void TryParse_Invalid_ReturnsReason(string value, string reason)
    {
        Assert.False(Digest.TryParse(value, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => Digest.Parse(value));
    }

    [Fact]
    public void TryParse_Null_ReturnsFalse()
    {
        Assert.False(Digest.TryParse(null, out _));
    }

    [Fact]
    public void FromSha256_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => Digest.FromSha256(new byte[20]));
    }

    [Fact]
    public void Default_IsEmpty()
    {
        Assert.True(default(Digest).IsEmpty);
        Assert.False(Digest.Parse(EmptySha256).IsEmpty);
    }
}
