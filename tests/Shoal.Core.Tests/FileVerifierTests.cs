using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Shoal.Core.Blobs;
using Shoal.Core.Store;

namespace Shoal.Core.Tests;

public sealed class FileVerifierTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));
    private readonly BlobStore _store;
    private readonly string _incoming;

    public FileVerifierTests()
    {
        _store = new BlobStore(new BlobStoreOptions { Root = System.IO.Path.Combine(_dir.Path, "store") }, _time);
        _incoming = System.IO.Path.Combine(_dir.Path, "incoming");
        Directory.CreateDirectory(_incoming);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AdvanceTo_FileFilledInSteps_WhileItsWriterHoldsItOpen_GivesTheOneShotDigest()
    {
        // Steps that cross the verifier's 256 KiB read chunks and end mid-chunk.
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 12_345);
        var info = await MetaInfoOfAsync(data);
        var path = NewPath();
        int[] steps = [700_000, 1_048_576 + 3, 2_500_000, data.Length];

        await using var writer = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.Asynchronous);
        using var verifier = new FileVerifier(path);
        Assert.Equal(path, verifier.Path);
        Assert.Equal(0, verifier.Hashed);
        var written = 0;
        foreach (var end in steps)
        {
            await writer.WriteAsync(data.AsMemory(written, end - written));
            written = end;
            verifier.AdvanceTo(end, CancellationToken.None);
            Assert.Equal(end, verifier.Hashed);
            // Going back is a no-op: nothing is hashed twice.
            verifier.AdvanceTo(end / 2, CancellationToken.None);
            Assert.Equal(end, verifier.Hashed);
        }

        var verified = verifier.Verify(info, CancellationToken.None);

        Assert.Equal(Digest.Compute(data), verified.Digest);
        Assert.Equal(info.Digest, verified.Digest);
        Assert.Equal(path, verified.Path);
        Assert.Same(info, verified.MetaInfo);
    }

    [Fact]
    public async Task Verify_WithoutAdvancing_HashesTheWholeFile_AndCanStartOver()
    {
        var data = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 1);
        var info = await MetaInfoOfAsync(data);
        var path = await WriteFileAsync(data);
        using var verifier = new FileVerifier(path);

        var first = verifier.Verify(info, CancellationToken.None);

        Assert.Equal(info.Digest, first.Digest);
        Assert.Equal(0, verifier.Hashed);
        // The hash was reset: a second check reads the file again and still matches.
        var second = verifier.Verify(info, CancellationToken.None);
        Assert.Equal(info.Digest, second.Digest);
    }

    [Fact]
    public async Task Verify_AfterPartialAdvance_MatchesOneShotDigest()
    {
        var data = RandomNumberGenerator.GetBytes(1_500_000);
        var info = await MetaInfoOfAsync(data);
        var path = await WriteFileAsync(data);
        using var verifier = new FileVerifier(path);

        verifier.AdvanceTo(999_999, CancellationToken.None);
        var verified = verifier.Verify(info, CancellationToken.None);

        Assert.Equal(Digest.Compute(data), verified.Digest);
    }

    [Fact]
    public async Task Verify_EmptyFile_MatchesEmptyBlob()
    {
        var info = await MetaInfoOfAsync([]);
        var path = await WriteFileAsync([]);
        using var verifier = new FileVerifier(path);

        var verified = verifier.Verify(info, CancellationToken.None);

        Assert.Equal(Digest.Compute([]), verified.Digest);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public async Task Verify_LengthDiffersFromMetaInfo_ThrowsInvalidData(int delta)
    {
        var data = RandomNumberGenerator.GetBytes(100_000);
        var info = await MetaInfoOfAsync(RandomNumberGenerator.GetBytes(data.Length + delta));
        var path = await WriteFileAsync(data);
        using var verifier = new FileVerifier(path);

        Assert.Throws<InvalidDataException>(() => verifier.Verify(info, CancellationToken.None));
    }

    [Fact]
    public async Task Verify_FileShrankBelowWhatWasHashed_ThrowsInvalidData()
    {
        var data = RandomNumberGenerator.GetBytes(100_000);
        var path = await WriteFileAsync(data);
        using var verifier = new FileVerifier(path);
        verifier.AdvanceTo(80_000, CancellationToken.None);

        // The file is cut to 50,000 bytes; a metainfo of that length must not be matched against
        // a hash that already covers bytes beyond it.
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            RandomAccess.SetLength(handle, 50_000);
        }
        var info = await MetaInfoOfAsync(data.AsSpan(0, 50_000).ToArray());

        Assert.Throws<InvalidDataException>(() => verifier.Verify(info, CancellationToken.None));
    }

    [Fact]
    public async Task Verify_SameLengthOtherContent_ThrowsDigestMismatch()
    {
        var data = RandomNumberGenerator.GetBytes(1_200_000);
        var other = (byte[])data.Clone();
        other[^1] ^= 0x5A; // one bit pattern in the last byte differs
        var info = await MetaInfoOfAsync(other);
        var path = await WriteFileAsync(data);
        using var verifier = new FileVerifier(path);
        verifier.AdvanceTo(1_000_000, CancellationToken.None);

        var ex = Assert.Throws<DigestMismatchException>(() => verifier.Verify(info, CancellationToken.None));

        Assert.Equal(Digest.Compute(other), ex.Expected);
        Assert.Equal(Digest.Compute(data), ex.Actual);
    }

    [Fact]
    public async Task AdvanceTo_BeyondEndOfFile_ThrowsEndOfStream()
    {
        var data = RandomNumberGenerator.GetBytes(10_000);
        var path = await WriteFileAsync(data);
        using var verifier = new FileVerifier(path);

        Assert.Throws<EndOfStreamException>(() => verifier.AdvanceTo(data.Length + 1, CancellationToken.None));

        // What was there was hashed, and no more.
        Assert.Equal(data.Length, verifier.Hashed);
    }

    [Fact]
    public async Task AdvanceTo_Canceled_StopsBetweenReads_AndResumesWhereItStopped()
    {
        var data = RandomNumberGenerator.GetBytes(1_000_000);
        var info = await MetaInfoOfAsync(data);
        var path = await WriteFileAsync(data);
        using var verifier = new FileVerifier(path);
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        Assert.Throws<OperationCanceledException>(() => verifier.AdvanceTo(data.Length, canceled.Token));
        Assert.Equal(0, verifier.Hashed);

        // Nothing was half-hashed: the same verifier still gives the right digest.
        Assert.Equal(Digest.Compute(data), verifier.Verify(info, CancellationToken.None).Digest);
    }

    [Fact]
    public async Task Disposed_RefusesWork()
    {
        var data = RandomNumberGenerator.GetBytes(100);
        var info = await MetaInfoOfAsync(data);
        var verifier = new FileVerifier(await WriteFileAsync(data));
        verifier.Dispose();
        verifier.Dispose();

        Assert.Throws<ObjectDisposedException>(() => verifier.AdvanceTo(10, CancellationToken.None));
        Assert.Throws<ObjectDisposedException>(() => verifier.Verify(info, CancellationToken.None));
    }

    [Fact]
    public void Constructor_MissingFile_Throws()
    {
        Assert.Throws<FileNotFoundException>(() => new FileVerifier(System.IO.Path.Combine(_incoming, "absent")));
    }

    [Fact]
    public async Task VerifyFile_MatchingFile_ReturnsVerifiedFile()
    {
        var data = RandomNumberGenerator.GetBytes(1_100_000);
        var info = await MetaInfoOfAsync(data);
        var path = await WriteFileAsync(data);

        var verified = BlobStore.VerifyFile(path, info, CancellationToken.None);

        Assert.Equal(info.Digest, verified.Digest);
        Assert.Equal(path, verified.Path);
        Assert.Same(info, verified.MetaInfo);
    }

    [Fact]
    public async Task VerifyFile_OtherContent_ThrowsDigestMismatch_AndLeavesFileAndStoreAlone()
    {
        var data = RandomNumberGenerator.GetBytes(50_000);
        var info = await MetaInfoOfAsync(RandomNumberGenerator.GetBytes(data.Length));
        var path = await WriteFileAsync(data);

        Assert.Throws<DigestMismatchException>(() => BlobStore.VerifyFile(path, info, CancellationToken.None));

        Assert.True(File.Exists(path));
        Assert.False(_store.Contains(info.Digest));
        Assert.False(_store.Contains(Digest.Compute(data)));
    }

    [Fact]
    public async Task PublishAsync_VerifiedFile_IsReadableWithDigestAndMetaInfo()
    {
        var data = RandomNumberGenerator.GetBytes(2_345_678);
        var info = await MetaInfoOfAsync(data);
        var path = await WriteFileAsync(data);
        var verified = BlobStore.VerifyFile(path, info, CancellationToken.None);
        Assert.False(_store.Contains(info.Digest));

        var result = await _store.PublishAsync(verified, CancellationToken.None);

        Assert.True(result.Created);
        Assert.Equal(info.Digest, result.Digest);
        Assert.Equal(data.Length, result.Size);
        Assert.Equal(info.InfoHash, result.MetaInfo.InfoHash);
        Assert.False(File.Exists(path), "the verified file is consumed");
        Assert.True(_store.Contains(info.Digest));
        Assert.Equal(data.Length, _store.Stat(info.Digest)!.Size);
        Assert.Equal(_time.GetUtcNow(), _store.Stat(info.Digest)!.Metadata.CreatedAt);
        await using (var stream = _store.OpenRead(info.Digest)!)
        {
            var stored = await BlobStoreTests.ReadAllAsync(stream);
            Assert.Equal(data, stored);
            Assert.Equal(info.Digest, Digest.Compute(stored));
        }
        var storedInfo = await _store.GetMetaInfoAsync(info.Digest, CancellationToken.None);
        Assert.Equal(info.InfoHash, storedInfo!.InfoHash);
        Assert.Equal(info.PieceLength, storedInfo.PieceLength);
        Assert.Equal(1, _store.Count);
        Assert.Equal(data.Length, _store.TotalBytes);
        // A fresh instance over the same root finds the blob and its metainfo on disk.
        var reopened = new BlobStore(new BlobStoreOptions { Root = _store.Root }, _time);
        Assert.Equal(info.InfoHash, (await reopened.GetMetaInfoAsync(info.Digest, CancellationToken.None))!.InfoHash);
    }

    [Fact]
    public async Task PublishAsync_VerifiedFileOfABlobAlreadyStored_ReportsNotCreatedAndDropsTheFile()
    {
        var data = RandomNumberGenerator.GetBytes(300_000);
        var info = await MetaInfoOfAsync(data);
        await _store.WriteAsync(info.Digest, new MemoryStream(data), data.Length, CancellationToken.None);
        var path = await WriteFileAsync(data);
        using var verifier = new FileVerifier(path);
        var verified = verifier.Verify(info, CancellationToken.None);

        var result = await _store.PublishAsync(verified, CancellationToken.None);

        Assert.False(result.Created);
        Assert.Equal(info.Digest, result.Digest);
        Assert.False(File.Exists(path));
        Assert.Equal(1, _store.Count);
        await using var stream = _store.OpenRead(info.Digest)!;
        Assert.Equal(data, await BlobStoreTests.ReadAllAsync(stream));
    }

    [Fact]
    public async Task PublishAsync_Null_Throws()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(() => _store.PublishAsync((VerifiedFile)null!, CancellationToken.None));
    }

    private static async Task<MetaInfo> MetaInfoOfAsync(byte[] data)
        => await BlobHasher.ComputeAsync(new MemoryStream(data), data.Length, CancellationToken.None);

    private string NewPath() => System.IO.Path.Combine(_incoming, Guid.NewGuid().ToString("N"));

    private async Task<string> WriteFileAsync(byte[] data)
    {
        var path = NewPath();
        await File.WriteAllBytesAsync(path, data);
        return path;
    }
}
