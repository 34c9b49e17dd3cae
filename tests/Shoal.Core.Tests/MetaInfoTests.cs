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
            Assert.True(info.VerifyPiece(i, piece));
            // Entry i is the blob's own SHA-256 state after piece i: .NET's one-shot hash of the whole
            // blob is reached by hashing the rest on from it. The last entry is that hash itself.
            var end = (int)info.PieceOffset(i) + piece.Length;
            var digest = info.ChainingValue(i).ToArray();
            if (i < info.PieceCount - 1)
            {
                Sha256Chain.Finish(info.ChainingValue(i), end, data.AsSpan(end), digest);
            }
            Assert.Equal(SHA256.HashData(data), digest);
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
    // Earlier versions' form: a SHA-256 per piece, no scheme.
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":0,\"pieceLength\":65536,\"pieceHashes\":\"\"}")]
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":0,\"pieceLength\":65536,\"pieceHashing\":\"sha256\",\"chain\":\"\"}")]
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":10,\"pieceLength\":65536,\"pieceHashing\":\"sha256-chain\",\"chain\":\"\"}")]
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":0,\"pieceLength\":65536,\"pieceHashing\":\"sha256-chain\",\"chain\":\"!!\"}")]
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":0,\"pieceLength\":65536,\"pieceHashing\":\"sha256-chain\",\"chain\":\"\",\"infoHash\":\"00\"}")]
    // One piece whose value is not the digest.
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":10,\"pieceLength\":65536,\"pieceHashing\":\"sha256-chain\",\"chain\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}")]
    // A piece length that is not a whole number of SHA-256 blocks.
    [InlineData("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":10,\"pieceLength\":100,\"pieceHashing\":\"sha256-chain\",\"chain\":\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"}")]
    public void FromJson_Inconsistent_ThrowsFormatException(string json)
    {
        // The well-formed empty blob is accepted: each case above breaks one thing.
        Assert.Equal(0, MetaInfo.FromJson("{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":0,\"pieceLength\":65536,\"pieceHashing\":\"sha256-chain\",\"chain\":\"\"}"u8).PieceCount);
        Assert.Throws<FormatException>(() => MetaInfo.FromJson(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void FromJson_EarlierPerPieceForm_SaysWhichHashingItUses()
    {
        var json = "{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"length\":0,\"pieceLength\":65536,\"pieceHashes\":\"\"}"u8.ToArray();
        var ex = Assert.Throws<FormatException>(() => MetaInfo.FromJson(json));
        Assert.Contains("expected 'sha256-chain'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5000)]
    [InlineData(64 * 1024)]
    [InlineData(3 * 64 * 1024 + 1)]
    // Past 128 MiB the policy's piece length doubles: the values kept at 64 KiB are thinned.
    [InlineData((128 << 20) + (3 * 64 * 1024) + 5)]
    [InlineData(256 << 20)]
    public void Hasher_UnknownLength_GivesTheMetaInfoOfTheKnownLength(int size)
    {
        var unknown = new BlobHasher(expectedLength: null);
        var known = new BlobHasher(size);
        var random = new Random(size);
        var chunk = new byte[1 << 20];
        for (var done = 0; done < size;)
        {
            var n = Math.Min(random.Next(1, chunk.Length), size - done);
            random.NextBytes(chunk.AsSpan(0, n));
            unknown.Append(chunk.AsSpan(0, n));
            known.Append(chunk.AsSpan(0, n));
            done += n;
        }

        var (digest, info) = unknown.Complete();
        var (knownDigest, knownInfo) = known.Complete();

        Assert.Equal(knownDigest, digest);
        Assert.NotNull(info);
        Assert.Equal(PieceLengthPolicy.For(size), info.PieceLength);
        Assert.Equal(knownInfo!.InfoHash, info.InfoHash);
    }

    [Fact]
    public void Hasher_LengthOtherThanDeclared_GivesNoMetaInfo()
    {
        var hasher = new BlobHasher(1000);
        hasher.Append(new byte[999]);
        var (digest, info) = hasher.Complete();
        Assert.Equal(Digest.Compute(new byte[999]), digest);
        Assert.Null(info);
    }

    [Fact]
    public void Hasher_GivenPieceLength_CutsThere()
    {
        var data = RandomNumberGenerator.GetBytes(1000);
        var hasher = new BlobHasher(data.Length, 128);
        hasher.Append(data);
        var info = hasher.Complete().MetaInfo!;
        Assert.Equal(8, info.PieceCount);
        Assert.All(Enumerable.Range(0, 8), i => Assert.True(info.VerifyPiece(i, data.AsSpan(i * 128, info.PieceSize(i)))));
        Assert.Throws<ArgumentException>(() => new BlobHasher(data.Length, 100));
    }

    [Fact]
    public async Task VerifyPiece_RightBytesAtAnotherIndex_ReturnsFalse()
    {
        // Two pieces with the same bytes still have different values: each continues the chain
        // before it, so a piece is bound to its position.
        var piece = RandomNumberGenerator.GetBytes(64 * 1024);
        var data = piece.Concat(piece).Concat(piece).ToArray();
        var info = await BlobHasher.ComputeAsync(new MemoryStream(data), data.Length, CancellationToken.None);
        Assert.Equal(3, info.PieceCount);
        Assert.True(info.VerifyPiece(0, piece));
        Assert.True(info.VerifyPiece(1, piece));
        Assert.True(info.VerifyPiece(2, piece));
        Assert.False(info.ChainingValue(0).SequenceEqual(info.ChainingValue(1)));

        // Another blob's piece 0 is not this blob's piece 0, nor is this blob's piece 1.
        var distinct = RandomNumberGenerator.GetBytes(3 * 64 * 1024);
        var distinctInfo = await BlobHasher.ComputeAsync(new MemoryStream(distinct), distinct.Length, CancellationToken.None);
        Assert.True(distinctInfo.VerifyPiece(1, distinct.AsSpan(64 * 1024, 64 * 1024)));
        Assert.False(distinctInfo.VerifyPiece(0, distinct.AsSpan(64 * 1024, 64 * 1024)));
        Assert.False(distinctInfo.VerifyPiece(1, piece));
    }

    [Fact]
    public void Constructor_LastValueNotTheDigest_Throws()
    {
        var data = RandomNumberGenerator.GetBytes(200_000);
        var hasher = new BlobHasher(data.Length);
        hasher.Append(data);
        var honest = hasher.Complete().MetaInfo!;
        var chain = Enumerable.Range(0, honest.PieceCount).SelectMany(i => honest.ChainingValue(i).ToArray()).ToArray();

        // The same chain under another digest (every piece would pass, the blob would not).
        Assert.Throws<ArgumentException>(() => new MetaInfo(Digest.Compute("other"u8), data.Length, honest.PieceLength, chain));
        // The right digest, but the last value changed.
        chain[^1] ^= 1;
        Assert.Throws<ArgumentException>(() => new MetaInfo(honest.Digest, data.Length, honest.PieceLength, chain));
        // An empty blob under a digest that is not the SHA-256 of nothing.
        Assert.Throws<ArgumentException>(() => new MetaInfo(honest.Digest, 0, honest.PieceLength, []));
    }
}
