using System.Security.Cryptography;
using Shoal.Core.Blobs;

namespace Shoal.Core.Tests;

public sealed class Sha256ChainTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(119)]
    [InlineData(120)]
    [InlineData(128)]
    [InlineData(1000)]
    [InlineData(65_536 + 17)]
    public void StopAndResume_AtEveryBlockBoundary_GivesTheOneShotDigest(int length)
    {
        var data = RandomNumberGenerator.GetBytes(length);
        var expected = SHA256.HashData(data);
        var value = new byte[Sha256Chain.ValueSize];
        var digest = new byte[Sha256Chain.ValueSize];
        for (var cut = 0; cut <= length; cut += length > 2000 ? 64 * 97 : 64)
        {
            Sha256Chain.Advance([], data.AsSpan(0, cut), value);
            Sha256Chain.Finish(value, cut, data.AsSpan(cut), digest);
            Assert.Equal(expected, digest);
        }
        Sha256Chain.Finish([], 0, data, digest);
        Assert.Equal(expected, digest);
    }

    [Fact]
    public void Advance_InSteps_EqualsAdvanceAtOnce()
    {
        var data = RandomNumberGenerator.GetBytes(64 * 50);
        var once = new byte[32];
        Sha256Chain.Advance([], data, once);
        var stepped = new byte[32];
        Sha256Chain.Advance([], data.AsSpan(0, 64 * 7), stepped);
        Sha256Chain.Advance(stepped.ToArray(), data.AsSpan(64 * 7, 64 * 30), stepped);
        Sha256Chain.Advance(stepped.ToArray(), data.AsSpan(64 * 37), stepped);
        Assert.Equal(once, stepped);
    }

    [Fact]
    public void NativeAndManagedBlockFunctions_Agree()
    {
        var random = new Random(7);
        for (var round = 0; round < 50; round++)
        {
            var blocks = new byte[64 * random.Next(0, 40)];
            random.NextBytes(blocks);
            var start = new uint[8];
            for (var i = 0; i < 8; i++)
            {
                start[i] = (uint)random.Next() ^ ((uint)random.Next() << 16);
            }
            var native = (uint[])start.Clone();
            var managed = (uint[])start.Clone();
            Sha256Chain.CompressNative(native, blocks);
            Sha256Chain.CompressManaged(managed, blocks);
            Assert.Equal(managed, native);
        }
    }

    [Fact]
    public void TheBlockFunctionIsOpenSsls()
    {
        // The fast path must be the one in use where Shoal runs (Linux, where .NET itself needs
        // libcrypto): the managed one is several times slower.
        Assert.True(Sha256Chain.IsNative);
    }

    [Fact]
    public void Misuse_IsRefused()
    {
        var value = new byte[32];
        Assert.Throws<ArgumentException>(() => Sha256Chain.Advance([], new byte[65], value));
        Assert.Throws<ArgumentException>(() => Sha256Chain.Finish([], 10, new byte[5], value));
        Assert.Throws<ArgumentException>(() => Sha256Chain.Advance(new byte[31], new byte[64], value));
        Assert.Throws<ArgumentException>(() => Sha256Chain.Advance([], new byte[64], new byte[31]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sha256Chain.Finish([], -64, new byte[5], value));
    }
}
