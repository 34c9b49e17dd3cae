using System.Security.Cryptography;
using Shoal.Core.Blobs;

namespace Shoal.Core.Tests;

public sealed class MetaInfoTests
{
    [Theory]
    [InlineData(0L, PieceLengthPolicy.MinPieceLength)]
    [InlineData(1L, PieceLengthPolicy.MinPieceLength)]
    [InlineData(1L << 20, 64 * 1024)]
    [InlineData(64L << 20, 64 * 1024)]
    [InlineData(128L << 20, 64 * 1024)]
    [InlineData(256L << 20, 128 * 1024)]
    [InlineData(1L << 30, 512 * 1024)]
    [InlineData(16L << 30, 8 << 20)]
    [InlineData(20L << 30, PieceLengthPolicy.MaxPieceLength)]
    [InlineData(1L << 40, PieceLengthPolicy.MaxPieceLength)]
    public void PieceLengthPolicy_BySize_IsPowerOfTwoWithinBounds(long size, int expected)
    {
        var length = PieceLengthPolicy.For(size);
        Assert.Equal(expected, length);
        Assert.True((length & (length - 1)) == 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(256 * 1024)]
    [InlineData(256 * 1024 + 1)]
    [InlineData(3 * 1024 * 1024 + 17)]
    public async Task ComputeAsync_MatchesIndependentHashes(int size)
    {
        var data = RandomNumberGenerator.GetBytes(size);
        var info = await BlobHasher.ComputeAsync(new MemoryStream(data), size, CancellationToken.None);

        Assert.Equal(Digest.Compute(data), info.Digest);
        Assert.Equal(size, info.Length);
        var pieceLength = PieceLengthPolicy.For(size);
        Assert.Equal(pieceLength, info.PieceLength);
        Assert.Equal((size + pieceLength - 1) / pieceLength, info.PieceCount);
        for (var i = 0; i < info.PieceCount; i++)
        {
            var piece = data.AsSpan((int)info.PieceOffset(i), info.PieceSize(i));
            Assert.Equal(SHA256.HashData(piece), info.PieceHash(i).ToArray());
            Assert.True(info.VerifyPiece(i, piece));
        }
    }

    [Fact]
    public async Task VerifyPiece_CorruptOrWrongLength_ReturnsFalse()
    {
        var data = RandomNumberGenerator.GetBytes(600 * 1024);
        var info = await BlobHasher.ComputeAsync(new MemoryStream(data), data.Length, CancellationToken.None);
        var piece = data.AsSpan(0, info.PieceSize(0)).ToArray();
        piece[100] ^= 1;
        Assert.False(info.VerifyPiece(0, piece));
        Assert.False(info.VerifyPiece(0, data.AsSpan(0, 10)));
        Assert.False(info.VerifyPiece(info.PieceCount, data.AsSpan(0, 10)));
        Assert.False(info.VerifyPiece(-1, data.AsSpan(0, 10)));
    }

    [Fact]
    public async Task Json_RoundTrip_PreservesIdentity()
    {
        var data = RandomNumberGenerator.GetBytes(700 * 1024);
        var info = await BlobHasher.ComputeAsync(new MemoryStream(data), data.Length, CancellationToken.None);
        var copy = MetaInfo.FromJson(info.ToJson());
        Assert.Equal(info.InfoHash, copy.InfoHash);
        Assert.Equal(info.Digest, copy.Digest);
        Assert.Equal(info.PieceCount, copy.PieceCount);
        Assert.Matches("^[0-9a-f]{64}$", info.InfoHash);
    }

    [Fact]
    public async Task InfoHash_DiffersForDifferentContent()
    {
        var a = await BlobHasher.ComputeAsync(new MemoryStream(new byte[1000]), 1000, CancellationToken.None);
        var b = await BlobHasher.ComputeAsync(new MemoryStream(new byte[1001]), 1001, CancellationToken.None);
        Assert.NotEqual(a.InfoHash, b.InfoHash);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":10,\"pieceLength\":262144,\"pieceHashes\":\"\"}")]
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":0,\"pieceLength\":262144,\"pieceHashes\":\"!!\"}")]
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":0,\"pieceLength\":262144,\"pieceHashes\":\"\",\"infoHash\":\"00\"}")]
    public void FromJson_Inconsistent_ThrowsFormatException(string json)
    {
        Assert.Throws<FormatException>(() => MetaInfo.FromJson(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void Hasher_UnknownLength_ComputesSameDigest()
    {
        var data = RandomNumberGenerator.GetBytes(5000);
        using var hasher = new BlobHasher(expectedLength: null);
        hasher.Append(data.AsSpan(0, 1234));
        hasher.Append(data.AsSpan(1234));
        var (digest, info) = hasher.Complete();
        Assert.Equal(Digest.Compute(data), digest);
        Assert.NotNull(info);
        Assert.True(info!.VerifyPiece(0, data));
    }
}
