using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Shoal.Hosting.Registry;

namespace Shoal.Proxy.Tests;

/// <summary>The copy every blob response is written with (proxy, origin and agent), against a real pipe.</summary>
public sealed class CopyExactlyTests
{
    [Fact]
    public async Task CopiesExactlyCountBytes_InTheWritersBuffers_AndLeavesTheRestOfTheSource()
    {
        var data = RandomNumberGenerator.GetBytes(1_000_003);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        using var source = new MemoryStream(data);

        await RegistryResponses.CopyExactlyAsync(source, pipe.Writer, 700_001, CancellationToken.None);
        await pipe.Writer.CompleteAsync();

        var copied = (await pipe.Reader.ReadAtLeastAsync(int.MaxValue)).Buffer.ToArray();
        Assert.Equal(data.AsSpan(0, 700_001).ToArray(), copied);
        Assert.Equal(700_001, source.Position);
    }

    [Fact]
    public async Task ShortSource_ThrowsEndOfStream()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        using var source = new MemoryStream(new byte[1000]);

        var ex = await Assert.ThrowsAsync<EndOfStreamException>(() => RegistryResponses.CopyExactlyAsync(source, pipe.Writer, 1500, CancellationToken.None));

        Assert.Contains("500 bytes early", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReaderGoneBeforeTheEnd_Throws_InsteadOfCopyingIntoNothing()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await pipe.Reader.CompleteAsync();
        using var source = new MemoryStream(new byte[1_000_000]);

        await Assert.ThrowsAsync<OperationCanceledException>(() => RegistryResponses.CopyExactlyAsync(source, pipe.Writer, 1_000_000, CancellationToken.None));

        Assert.True(source.Position < 1_000_000);
    }
}
