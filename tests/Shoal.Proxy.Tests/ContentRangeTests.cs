using Shoal.Proxy.Internal;

namespace Shoal.Proxy.Tests;

public sealed class ContentRangeTests
{
    [Theory]
    [InlineData("0-0", 0, 0)]
    [InlineData("100-199", 100, 199)]
    [InlineData("bytes 5-9/10", 5, 9)]
    [InlineData("bytes=5-9", 5, 9)]
    [InlineData(" 7-8 ", 7, 8)]
    public void TryParse_ValidRange_ReturnsBounds(string value, long start, long end)
    {
        Assert.True(ContentRange.TryParse(value, out var range));
        Assert.Equal(new ContentRange(start, end), range);
        Assert.Equal(end - start + 1, range.Length);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("-5")]
    [InlineData("5-")]
    [InlineData("9-5")]
    [InlineData("a-b")]
    [InlineData("+1-2")]
    [InlineData("1--2")]
    [InlineData("99999999999999999999-1")]
    public void TryParse_Invalid_ReturnsFalse(string? value)
        => Assert.False(ContentRange.TryParse(value, out _));
}
