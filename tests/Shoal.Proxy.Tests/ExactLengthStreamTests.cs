using Shoal.Proxy.Internal;

namespace Shoal.Proxy.Tests;

public sealed class ExactLengthStreamTests
{
    [Fact]
    public async Task Read_ExactLength_ReturnsAllBytes()
    {
        var data = new byte[1000];
        Random.Shared.NextBytes(data);
        using var copy = new MemoryStream();

        await new ExactLengthStream(new MemoryStream(data), 1000).CopyToAsync(copy);

        Assert.Equal(data, copy.ToArray());
    }

    [Theory]
    [InlineData(999)]
    [InlineData(1001)]
    [InlineData(0)]
    public async Task Read_OtherLength_ThrowsInvalidData(int actual)
    {
        var stream = new ExactLengthStream(new MemoryStream(new byte[actual]), 1000);

        await Assert.ThrowsAsync<InvalidDataException>(() => stream.CopyToAsync(Stream.Null));
    }
}
