using Shoal.Core;

namespace Shoal.Storage.Tests;

public sealed class BackendNamesTests
{
    private static readonly Digest Sample = Digest.Compute("hello"u8);

    [Fact]
    public void ForBlob_Digest_IsBlobsSha256Hex()
    {
        Assert.Equal("blobs/sha256/" + Sample.Hex, BackendNames.ForBlob(Sample));
        Assert.True(BackendNames.IsValid(BackendNames.ForBlob(Sample), out _));
    }

    [Fact]
    public void ForBlob_EmptyDigest_Throws()
        => Assert.Throws<ArgumentException>(() => BackendNames.ForBlob(default));

    [Fact]
    public void TryParseBlob_CanonicalName_RoundTrips()
    {
        Assert.True(BackendNames.TryParseBlob(BackendNames.ForBlob(Sample), out var parsed));
        Assert.Equal(Sample, parsed);
        Assert.False(BackendNames.TryParseBlob("blobs/sha256/xyz", out _));
        Assert.False(BackendNames.TryParseBlob("tags/" + Sample.Hex, out _));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("blobs/sha256/abc")]
    [InlineData("tags/library.ubuntu/v1_2-3")]
    [InlineData("a/.hidden/b..c")]
    public void IsValid_GoodNames_True(string name)
        => Assert.True(BackendNames.IsValid(name, out var error), error);

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("a/./b")]
    [InlineData("/absolute")]
    [InlineData("trailing/")]
    [InlineData("a//b")]
    [InlineData("a\\b")]
    [InlineData("a b")]
    [InlineData("a:b")]
    [InlineData("~tmp/x")]
    [InlineData("a\0b")]
    [InlineData("caf\u00e9")]
    public void IsValid_BadNames_FalseWithReason(string name)
    {
        Assert.False(BackendNames.IsValid(name, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void IsValid_TooLong_False()
    {
        Assert.False(BackendNames.IsValid(new string('a', BackendNames.MaxSegmentLength + 1), out _));
        var longName = string.Join('/', Enumerable.Repeat(new string('a', 200), 6));
        Assert.False(BackendNames.IsValid(longName, out var error));
        Assert.Contains("longer", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("blobs/")]
    [InlineData("blobs/sha256/ab")]
    [InlineData("blobs/.")]
    public void IsValidPrefix_PartialNames_True(string prefix)
        => Assert.True(BackendNames.IsValidPrefix(prefix, out var error), error);

    [Theory]
    [InlineData("../")]
    [InlineData("a/../b")]
    [InlineData("/")]
    [InlineData("a//")]
    [InlineData("a\\")]
    public void IsValidPrefix_Escaping_False(string prefix)
        => Assert.False(BackendNames.IsValidPrefix(prefix, out _));
}
