using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Shoal.Core.Blobs;
using Shoal.Core.Store;

namespace Shoal.Core.Tests;

public sealed class BlobStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));
    private readonly BlobStore _store;

    public BlobStoreTests()
    {
        _store = new BlobStore(new BlobStoreOptions { Root = _dir.Path }, _time);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task WriteAsync_MatchingDigest_IsVisibleAndReadable()
    {
        var data = RandomNumberGenerator.GetBytes(300_000);
        var digest = Digest.Compute(data);

        var result = await _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None);

        Assert.True(result.Created);
        Assert.Equal(data.Length, result.Size);
        Assert.True(_store.Contains(digest));
        await using var stream = _store.OpenRead(digest)!;
        Assert.Equal(data, await ReadAllAsync(stream));
        Assert.Equal(data.Length, _store.Stat(digest)!.Size);
        var info = await _store.GetMetaInfoAsync(digest, CancellationToken.None);
        Assert.Equal(digest, info!.Digest);
    }

    [Fact]
    public async Task WriteAsync_DigestMismatch_LeavesNothingVisibleOrBehind()
    {
        var data = RandomNumberGenerator.GetBytes(1000);
        var wrong = Digest.Compute([1, 2, 3]);

        var ex = await Assert.ThrowsAsync<DigestMismatchException>(() => _store.WriteAsync(wrong, new MemoryStream(data), null, CancellationToken.None));

        Assert.Equal(Digest.Compute(data), ex.Actual);
        Assert.False(_store.Contains(wrong));
        Assert.False(_store.Contains(Digest.Compute(data)));
        Assert.Empty(_dir.AllFiles());
    }

    [Fact]
    public async Task WriteAsync_LengthMismatch_Throws()
    {
        var data = RandomNumberGenerator.GetBytes(1000);
        var digest = Digest.Compute(data);
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.WriteAsync(digest, new MemoryStream(data), 999, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.WriteAsync(digest, new MemoryStream(data), 1001, CancellationToken.None));
        Assert.False(_store.Contains(digest));
        Assert.Empty(_dir.AllFiles());
    }

    [Fact]
    public async Task Writer_DisposedWithoutCommit_RemovesTempFile()
    {
        await using (var writer = _store.CreateWriter())
        {
            await writer.WriteAsync(new byte[4096], CancellationToken.None);
            Assert.Single(_dir.AllFiles());
        }
        Assert.Empty(_dir.AllFiles());
    }

    [Fact]
    public async Task Writer_StreamFailsMidway_NothingVisible()
    {
        var data = RandomNumberGenerator.GetBytes(500_000);
        var digest = Digest.Compute(data);
        var failing = new FailingStream(data, failAfter: 200_000);

        await Assert.ThrowsAsync<IOException>(() => _store.WriteAsync(digest, failing, data.Length, CancellationToken.None));

        Assert.False(_store.Contains(digest));
        Assert.Empty(_dir.AllFiles());
    }

    [Fact]
    public async Task WriteAsync_ConcurrentWritersOfSameDigest_AllSucceedOneCopy()
    {
        var data = RandomNumberGenerator.GetBytes(2_000_000);
        var digest = Digest.Compute(data);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(() => _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None))));

        Assert.All(results, r => Assert.Equal(digest, r.Digest));
        Assert.Single(_store.Enumerate());
        await using var stream = _store.OpenRead(digest)!;
        Assert.Equal(data, await ReadAllAsync(stream));
        Assert.Empty(Directory.EnumerateFileSystemEntries(System.IO.Path.Combine(_dir.Path, "tmp")));
    }

    [Fact]
    public async Task WriteAsync_ExistingBlob_ReportsNotCreated()
    {
        var data = RandomNumberGenerator.GetBytes(100);
        var digest = Digest.Compute(data);
        await _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None);
        var second = await _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None);
        Assert.False(second.Created);
    }

    [Fact]
    public async Task OpenRead_Seek_ReadsRange()
    {
        var data = RandomNumberGenerator.GetBytes(10_000);
        var digest = Digest.Compute(data);
        await _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None);

        await using var stream = _store.OpenRead(digest)!;
        stream.Seek(5000, SeekOrigin.Begin);
        var buffer = new byte[100];
        await stream.ReadExactlyAsync(buffer);
        Assert.Equal(data.AsSpan(5000, 100).ToArray(), buffer);
    }

    [Fact]
    public void OpenRead_Missing_ReturnsNull()
    {
        Assert.Null(_store.OpenRead(Digest.Compute([9])));
        Assert.Null(_store.Stat(Digest.Compute([9])));
    }

    [Fact]
    public async Task OpenRead_UpdatesLastAccess_AtConfiguredResolution()
    {
        var data = RandomNumberGenerator.GetBytes(10);
        var digest = Digest.Compute(data);
        await _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None);
        var created = _store.Stat(digest)!.Metadata.LastAccessAt;

        _time.Advance(TimeSpan.FromSeconds(30));
        _store.OpenRead(digest)!.Dispose();
        Assert.Equal(created, _store.Stat(digest)!.Metadata.LastAccessAt);

        _time.Advance(TimeSpan.FromMinutes(2));
        _store.OpenRead(digest)!.Dispose();
        Assert.Equal(_time.GetUtcNow(), _store.Stat(digest)!.Metadata.LastAccessAt);
    }

    [Fact]
    public async Task UpdateFlags_PersistsPinnedAndPersisted()
    {
        var data = RandomNumberGenerator.GetBytes(10);
        var digest = Digest.Compute(data);
        await _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None);

        Assert.True(_store.UpdateFlags(digest, pinned: true));
        Assert.True(_store.UpdateFlags(digest, persisted: true));
        var reopened = new BlobStore(new BlobStoreOptions { Root = _dir.Path }, _time);
        var meta = reopened.Stat(digest)!.Metadata;
        Assert.True(meta.Pinned);
        Assert.True(meta.Persisted);
        Assert.False(_store.UpdateFlags(Digest.Compute([1]), pinned: true));
    }

    [Fact]
    public async Task Delete_RemovesBlobAndDirectory()
    {
        var data = RandomNumberGenerator.GetBytes(10);
        var digest = Digest.Compute(data);
        await _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None);

        Assert.True(_store.Delete(digest));
        Assert.False(_store.Contains(digest));
        Assert.False(_store.Delete(digest));
        Assert.Empty(_dir.AllFiles());
    }

    [Fact]
    public async Task GetMetaInfoAsync_DamagedFile_IsRecomputed()
    {
        var data = RandomNumberGenerator.GetBytes(400_000);
        var digest = Digest.Compute(data);
        var result = await _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None);
        var metaInfoFile = _dir.AllFiles().Single(f => f.EndsWith("metainfo.json", StringComparison.Ordinal));
        await File.WriteAllTextAsync(metaInfoFile, "garbage");

        var info = await _store.GetMetaInfoAsync(digest, CancellationToken.None);

        Assert.Equal(result.MetaInfo.InfoHash, info!.InfoHash);
    }

    [Fact]
    public async Task GetMetaInfoAsync_PieceLengthOfAnEarlierPolicy_IsRecomputed()
    {
        // A store written by a version whose smallest piece was 256 KiB: a 400,000-byte blob had two
        // pieces; today's policy cuts it into 64 KiB pieces, and every store must agree on that.
        var data = RandomNumberGenerator.GetBytes(400_000);
        var (digest, metaInfoFile) = await StoreAsync(data);
        const int EarlierPieceLength = 256 * 1024;
        var hasher = new BlobHasher(data.Length, EarlierPieceLength);
        hasher.Append(data);
        var earlier = hasher.Complete().MetaInfo!;
        await File.WriteAllBytesAsync(metaInfoFile, earlier.ToJson());

        var info = await _store.GetMetaInfoAsync(digest, CancellationToken.None);

        Assert.Equal(PieceLengthPolicy.For(data.Length), info!.PieceLength);
        Assert.NotEqual(earlier.PieceLength, info.PieceLength);
        Assert.Equal(info.InfoHash, MetaInfo.FromJson(await File.ReadAllBytesAsync(metaInfoFile)).InfoHash);
    }

    [Fact]
    public async Task GetMetaInfoAsync_EarlierPerPieceHashing_IsRecomputedAsAChain()
    {
        // metainfo.json as versions before chaining values wrote it: a SHA-256 of each piece on its
        // own. It cannot be verified the new way, so the store derives the chain from the bytes.
        var data = RandomNumberGenerator.GetBytes(300_000);
        var (digest, metaInfoFile) = await StoreAsync(data);
        var pieceLength = PieceLengthPolicy.For(data.Length);
        var perPiece = Convert.ToBase64String(data.Chunk(pieceLength).SelectMany(SHA256.HashData).ToArray());
        await File.WriteAllTextAsync(metaInfoFile, $$"""{"digest":"{{digest}}","length":{{data.Length}},"pieceLength":{{pieceLength}},"pieceHashes":"{{perPiece}}"}""");

        var info = await _store.GetMetaInfoAsync(digest, CancellationToken.None);

        Assert.NotNull(info);
        for (var i = 0; i < info.PieceCount; i++)
        {
            Assert.True(info.VerifyPiece(i, data.AsSpan((int)info.PieceOffset(i), info.PieceSize(i))));
        }
        Assert.Equal(info.InfoHash, MetaInfo.FromJson(await File.ReadAllBytesAsync(metaInfoFile)).InfoHash);
    }

    /// <summary>Stores <paramref name="data"/> (the only blob) and returns its digest and metainfo file.</summary>
    private async Task<(Digest Digest, string MetaInfoFile)> StoreAsync(byte[] data)
    {
        var digest = Digest.Compute(data);
        await _store.WriteAsync(digest, new MemoryStream(data), data.Length, CancellationToken.None);
        return (digest, _dir.AllFiles().Single(f => f.EndsWith("metainfo.json", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Constructor_RemovesLeftoverTempFiles()
    {
        await using (var writer = _store.CreateWriter())
        {
            await writer.WriteAsync(new byte[10], CancellationToken.None);
            // Simulate a crash: a second store instance starts while the temp file exists.
            _ = new BlobStore(new BlobStoreOptions { Root = _dir.Path }, _time);
            Assert.Empty(_dir.AllFiles());
        }
    }

    [Fact]
    public async Task Enumerate_ListsEveryBlob()
    {
        var digests = new List<Digest>();
        for (var i = 0; i < 5; i++)
        {
            var data = RandomNumberGenerator.GetBytes(50);
            digests.Add(Digest.Compute(data));
            await _store.WriteAsync(digests[^1], new MemoryStream(data), data.Length, CancellationToken.None);
        }
        Assert.Equal(digests.OrderBy(d => d.Hex, StringComparer.Ordinal), _store.Enumerate().Select(b => b.Digest).OrderBy(d => d.Hex, StringComparer.Ordinal));
    }

    [Fact]
    public async Task AllFiles_StayUnderRoot()
    {
        var data = RandomNumberGenerator.GetBytes(10);
        await _store.WriteAsync(Digest.Compute(data), new MemoryStream(data), data.Length, CancellationToken.None);
        var root = System.IO.Path.GetFullPath(_dir.Path);
        Assert.All(_dir.AllFiles(), f => Assert.StartsWith(root, System.IO.Path.GetFullPath(f), StringComparison.Ordinal));
    }

    internal static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private sealed class FailingStream(byte[] data, int failAfter) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
            {
                throw new IOException("connection reset");
            }
            var n = Math.Min(count, Math.Min(failAfter, data.Length) - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    internal static Stream Failing(byte[] data, int failAfter) => new FailingStream(data, failAfter);
}
