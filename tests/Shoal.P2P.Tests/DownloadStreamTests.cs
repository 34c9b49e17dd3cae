using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.P2P.Engine;
using Shoal.P2P.Storage;

namespace Shoal.P2P.Tests;

/// <summary>
/// A <see cref="BlobDownload"/>'s read streams against its <see cref="BlobDownload.WholeBlobVerified"/>:
/// the download's swarm is built but its loop is not run, so the test marks pieces verified and
/// reports the whole-blob check itself.
/// </summary>
public sealed class DownloadStreamTests : IAsyncLifetime
{
    private const int PieceLength = 64 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "shoal-p2p-" + Guid.NewGuid().ToString("N"));
    private readonly byte[] _content = TestData.RandomBytes((5 * PieceLength) + 1000, 5);
    private readonly MetaInfo _info;
    private readonly PeerEngine _engine = new(new P2POptions(), new PeerEngineSetup());
    private readonly BlobFile _file;
    private readonly BlobDownload _download;

    public DownloadStreamTests()
    {
        _info = TestData.MetaInfoFor(_content, PieceLength);
        Directory.CreateDirectory(_root);
        _file = BlobFile.OpenPartial(_info, Path.Combine(_root, "data"));
        _download = new Swarm(_engine, _info, null, _file, null, null).Download!;
    }

    [Fact]
    public async Task LastRead_WaitsForWholeBlobVerified_ThenReturnsTheLastBytes_BeforeCompletion()
    {
        await VerifyAllPiecesAsync();
        await using var stream = _download.OpenRead(0, _info.Length);
        var lastPiece = _info.PieceCount - 1;

        // Everything before the last piece is served as soon as its pieces are verified.
        var head = await ReadExactlyAsync(stream, _info.PieceOffset(lastPiece));
        Assert.Equal(_content.AsSpan(0, (int)_info.PieceOffset(lastPiece)).ToArray(), head);

        // The read that would end the blob waits for the whole-blob check.
        var buffer = new byte[PieceLength];
        var last = stream.ReadAsync(buffer).AsTask();
        await Task.WhenAny(last, Task.Delay(TimeSpan.FromMilliseconds(300)));
        Assert.False(last.IsCompleted, "the last bytes were returned before the whole blob was verified");

        _download.Verified();

        var read = await last.WaitAsync(Timeout);
        Assert.Equal(_info.PieceSize(lastPiece), read);
        Assert.Equal(_content.AsSpan((int)_info.PieceOffset(lastPiece)).ToArray(), buffer.AsSpan(0, read).ToArray());
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout));
        Assert.True(_download.WholeBlobVerified.IsCompletedSuccessfully);
        // Verified, not yet stored: the reader does not wait for the store.
        Assert.False(_download.Completion.IsCompleted);
    }

    [Fact]
    public async Task RangeEndingBeforeTheLastByte_DoesNotWaitForWholeBlobVerified()
    {
        await VerifyAllPiecesAsync();
        await using var stream = _download.OpenRead(100, _info.Length - 101);

        var bytes = await ReadExactlyAsync(stream, _info.Length - 101).WaitAsync(Timeout);

        Assert.Equal(_content.AsSpan(100, (int)_info.Length - 101).ToArray(), bytes);
        Assert.False(_download.WholeBlobVerified.IsCompleted);
    }

    [Fact]
    public async Task LastRead_WholeBlobCheckFails_ThrowsIOException_WithoutTheLastBytes()
    {
        await VerifyAllPiecesAsync();
        var lastOffset = _info.PieceOffset(_info.PieceCount - 1);
        await using var stream = _download.OpenRead(lastOffset, _info.Length - lastOffset);
        var buffer = new byte[PieceLength];
        var last = stream.ReadAsync(buffer).AsTask();
        Assert.False(last.IsCompleted);

        var mismatch = new DigestMismatchException(_info.Digest, Digest.Compute("something else"u8));
        _download.Fail(mismatch);

        var ex = await Assert.ThrowsAsync<IOException>(() => last.WaitAsync(Timeout));
        Assert.Same(mismatch, ex.InnerException);
        Assert.All(buffer, b => Assert.Equal(0, b));
        await Assert.ThrowsAsync<DigestMismatchException>(() => _download.WholeBlobVerified);
        await Assert.ThrowsAsync<DigestMismatchException>(() => _download.Completion);
    }

    [Fact]
    public async Task LastRead_AfterWholeBlobCheckFailed_ThrowsAtOnce()
    {
        await VerifyAllPiecesAsync();
        _download.Fail(new DigestMismatchException(_info.Digest, Digest.Compute("other"u8)));
        await using var stream = _download.OpenRead(_info.Length - 1, 1);

        var ex = await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[1]).AsTask().WaitAsync(Timeout));

        Assert.IsType<DigestMismatchException>(ex.InnerException);
    }

    [Fact]
    public async Task ReaderBehind_DownloadFailedAndFileClosed_ThrowsIOExceptionWithTheCause()
    {
        await VerifyAllPiecesAsync();
        await using var stream = _download.OpenRead(0, _info.Length);
        Assert.Equal(1000, await stream.ReadAsync(new byte[1000]).AsTask().WaitAsync(Timeout));

        // What a swarm does when its download fails: fail the download, then close its file.
        var failure = new DigestMismatchException(_info.Digest, Digest.Compute("other"u8));
        _download.Fail(failure);
        _file.Dispose();

        var ex = await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[1000]).AsTask().WaitAsync(Timeout));
        Assert.Same(failure, ex.InnerException);
    }

    [Fact]
    public async Task ReaderBehind_OneReadReturnsEveryVerifiedPieceAhead_UpToTheFirstMissingOneOrTheBuffer()
    {
        VerifyPiece(0);
        VerifyPiece(1);
        VerifyPiece(2);
        VerifyPiece(4);
        await using var stream = _download.OpenRead(100, _info.Length - 100);
        var buffer = new byte[_info.Length];

        // Pieces 0-2 at once (one write to the client instead of three); piece 3 is missing.
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout);
        Assert.Equal((3 * PieceLength) - 100, read);
        Assert.Equal(_content.AsSpan(100, read).ToArray(), buffer.AsSpan(0, read).ToArray());

        // Then as far as the buffer goes, even within a piece.
        VerifyPiece(3);
        read = await stream.ReadAsync(buffer.AsMemory(0, PieceLength + 10)).AsTask().WaitAsync(Timeout);
        Assert.Equal(PieceLength + 10, read);
        Assert.Equal(_content.AsSpan(3 * PieceLength, read).ToArray(), buffer.AsSpan(0, read).ToArray());
    }

    [Fact]
    public async Task Complete_AlsoReleasesTheLastRead()
    {
        await VerifyAllPiecesAsync();
        await using var stream = _download.OpenRead(_info.Length - 10, 10);
        var buffer = new byte[10];
        var last = stream.ReadAsync(buffer).AsTask();
        Assert.False(last.IsCompleted);

        _download.Complete(new Core.Store.BlobCommitResult(_info.Digest, _info.Length, _info, Created: true));

        Assert.Equal(10, await last.WaitAsync(Timeout));
        Assert.Equal(_content.AsSpan(_content.Length - 10).ToArray(), buffer);
        Assert.True(_download.WholeBlobVerified.IsCompletedSuccessfully);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _file.Dispose();
        await _engine.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private async Task VerifyAllPiecesAsync()
    {
        for (var i = 0; i < _info.PieceCount; i++)
        {
            VerifyPiece(i);
        }
    }

    private void VerifyPiece(int index)
    {
        _file.WritePiece(index, _content.AsSpan((int)_info.PieceOffset(index), _info.PieceSize(index)));
        Assert.True(_file.MarkVerified(index));
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, long count)
    {
        var bytes = new byte[count];
        var done = 0;
        while (done < count)
        {
            var read = await stream.ReadAsync(bytes.AsMemory(done));
            if (read == 0)
            {
                throw new EndOfStreamException($"the stream ended after {done} of {count} bytes");
            }
            done += read;
        }
        return bytes;
    }
}
