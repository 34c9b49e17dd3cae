using System.Security.Cryptography;

namespace Shoal.Storage.Tests;

public sealed class FileSystemBackendTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FileSystemBackend _backend;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30)); // no test may hang
    private readonly CancellationToken _ct;

    public FileSystemBackendTests()
    {
        _backend = new FileSystemBackend(Path.Combine(_dir.Path, "root"));
        _ct = _timeout.Token;
    }

    public void Dispose()
    {
        _timeout.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task UploadAsync_ThenOpenRead_RoundTrips()
    {
        var data = RandomNumberGenerator.GetBytes(300_000);
        await _backend.UploadAsync("blobs/sha256/abc", new MemoryStream(data), data.Length, _ct);

        var stat = await _backend.StatAsync("blobs/sha256/abc", _ct);
        Assert.NotNull(stat);
        Assert.Equal(data.Length, stat.Size);
        Assert.Equal("blobs/sha256/abc", stat.Name);
        Assert.NotNull(stat.LastModified);
        Assert.Equal(data, await ReadAllAsync("blobs/sha256/abc", 0, null));
        Assert.True(File.Exists(Path.Combine(_backend.Root, "blobs", "sha256", "abc")));
    }

    [Fact]
    public async Task UploadAsync_Empty_RoundTrips()
    {
        await _backend.UploadAsync("empty", new MemoryStream(), 0, _ct);
        Assert.Equal(0, (await _backend.StatAsync("empty", _ct))!.Size);
        Assert.Empty(await ReadAllAsync("empty", 0, null));
    }

    [Fact]
    public async Task UploadAsync_Existing_ReplacesObject()
    {
        await _backend.UploadAsync("x", new MemoryStream([1, 2, 3]), 3, _ct);
        await _backend.UploadAsync("x", new MemoryStream([4, 5]), 2, _ct);
        Assert.Equal([4, 5], await ReadAllAsync("x", 0, null));
    }

    [Theory]
    [InlineData(0, 10L, 0, 10)]
    [InlineData(5, 3L, 5, 3)]
    [InlineData(95, 50L, 95, 5)] // length past the end is clipped
    [InlineData(40, null, 40, 60)]
    [InlineData(100, null, 100, 0)] // offset at the end: empty
    public async Task OpenReadAsync_Range_ReturnsThatSlice(long offset, long? length, int expectedStart, int expectedCount)
    {
        var data = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        await _backend.UploadAsync("r", new MemoryStream(data), data.Length, _ct);
        Assert.Equal(data.AsSpan(expectedStart, expectedCount).ToArray(), await ReadAllAsync("r", offset, length));
    }

    [Fact]
    public async Task OpenReadAsync_OffsetPastEnd_Throws()
    {
        await _backend.UploadAsync("r", new MemoryStream([1, 2]), 2, _ct);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _backend.OpenReadAsync("r", 3, null, _ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _backend.OpenReadAsync("r", -1, null, _ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _backend.OpenReadAsync("r", 0, -1, _ct));
    }

    [Fact]
    public async Task StatAndOpenRead_Missing_ReturnNull()
    {
        Assert.Null(await _backend.StatAsync("nope", _ct));
        Assert.Null(await _backend.OpenReadAsync("nope", 0, null, _ct));
        Assert.Null(await _backend.OpenReadAsync("missing/dir/nope", 0, null, _ct));
    }

    [Fact]
    public async Task StatAndOpenRead_Directory_AreNotObjects()
    {
        await _backend.UploadAsync("dir/file", new MemoryStream([1]), 1, _ct);
        Assert.Null(await _backend.StatAsync("dir", _ct));
        Assert.Null(await _backend.OpenReadAsync("dir", 0, null, _ct));
        Assert.False(await _backend.DeleteAsync("dir", _ct));
    }

    [Fact]
    public async Task StatAndOpenRead_NameThroughAFile_ReturnNull()
    {
        await _backend.UploadAsync("file", new MemoryStream([1]), 1, _ct);
        Assert.Null(await _backend.StatAsync("file/child", _ct));
        Assert.Null(await _backend.OpenReadAsync("file/child", 0, null, _ct));
        Assert.False(await _backend.DeleteAsync("file/child", _ct));
        Assert.Single((await _backend.ListAsync("file/", null, 10, _ct)).Objects.Concat((await _backend.ListAsync("file", null, 10, _ct)).Objects));
    }

    [Fact]
    public async Task DeleteAsync_Present_RemovesIt()
    {
        await _backend.UploadAsync("d/x", new MemoryStream([1]), 1, _ct);
        Assert.True(await _backend.DeleteAsync("d/x", _ct));
        Assert.Null(await _backend.StatAsync("d/x", _ct));
        Assert.False(await _backend.DeleteAsync("d/x", _ct));
    }

    [Fact]
    public async Task DeleteAsync_LastObjectOfADirectory_PrunesEmptyDirectoriesUpToTheFirstNonEmptyOne()
    {
        await _backend.UploadAsync("r/_manifests/tags/v1/current/link", new MemoryStream([1]), 1, _ct);
        await _backend.UploadAsync("r/_manifests/tags/v1/index/sha256/ab/link", new MemoryStream([1]), 1, _ct);
        await _backend.UploadAsync("r/_manifests/tags/v2/current/link", new MemoryStream([2]), 1, _ct);
        var tags = Path.Combine(_backend.Root, "r", "_manifests", "tags");

        Assert.True(await _backend.DeleteAsync("r/_manifests/tags/v1/current/link", _ct));
        Assert.False(Directory.Exists(Path.Combine(tags, "v1", "current")));
        Assert.True(Directory.Exists(Path.Combine(tags, "v1", "index", "sha256", "ab")));

        Assert.True(await _backend.DeleteAsync("r/_manifests/tags/v1/index/sha256/ab/link", _ct));
        // A registry lists the directories under tags/ as tags: v1 must be gone, v2 untouched.
        Assert.Equal(["v2"], Directory.GetDirectories(tags).Select(Path.GetFileName));

        Assert.True(await _backend.DeleteAsync("r/_manifests/tags/v2/current/link", _ct));
        Assert.False(Directory.Exists(Path.Combine(_backend.Root, "r")));
        Assert.True(Directory.Exists(_backend.Root));
        Assert.True(Directory.Exists(Path.Combine(_backend.Root, FileSystemBackend.TempDirectoryName)));

        // Writing into a pruned directory creates it again.
        await _backend.UploadAsync("r/_manifests/tags/v1/current/link", new MemoryStream([3]), 1, _ct);
        Assert.Equal([3], await ReadAllAsync("r/_manifests/tags/v1/current/link", 0, null));
    }

    [Fact]
    public async Task DeleteAndUpload_InTheSameDirectoryConcurrently_NeverLoseAnUpload()
    {
        // The race is narrow (a delete pruning the directory while an upload creates it, or moves into
        // it): many rounds, so that a regression shows up in more runs.
        for (var round = 0; round < 500; round++)
        {
            await _backend.UploadAsync($"c/{round}/a", new MemoryStream([1]), 1, _ct);
            var delete = Task.Run(() => _backend.DeleteAsync($"c/{round}/a", _ct));
            var upload = Task.Run(() => _backend.UploadAsync($"c/{round}/b", new MemoryStream([2]), 1, _ct));
            await Task.WhenAll(delete, upload);
            Assert.Equal([2], await ReadAllAsync($"c/{round}/b", 0, null));
        }
    }

    [Fact]
    public async Task ListAsync_SmallPages_ReturnAllNamesInOrdinalOrderOnce()
    {
        // '-' and '.' sort before '/', which sorts before digits: a per-directory walk must still give the global order.
        string[] names = ["a-x", "a.y", "a/b", "a/c/d", "a/c-e", "a0", "b", "blobs/sha256/00", "blobs/sha256/ff", "z/z/z/z"];
        foreach (var name in names.Reverse())
        {
            await _backend.UploadAsync(name, new MemoryStream([7]), 1, _ct);
        }

        var listed = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await _backend.ListAsync("", token, 3, _ct);
            Assert.True(page.Objects.Count <= 3);
            listed.AddRange(page.Objects.Select(o => o.Name));
            Assert.All(page.Objects, o => Assert.Equal(1, o.Size));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null && pages < 20);

        Assert.Equal(names.Order(StringComparer.Ordinal), listed);
        Assert.Equal(4, pages);
    }

    [Fact]
    public async Task ListAsync_Prefix_FiltersByStringPrefix()
    {
        foreach (var name in new[] { "blobs/sha256/ab01", "blobs/sha256/ab02", "blobs/sha256/ac01", "blobsx/ab", "tags/ab" })
        {
            await _backend.UploadAsync(name, new MemoryStream([1]), 1, _ct);
        }

        var page = await _backend.ListAsync("blobs/sha256/ab", null, 10, _ct);
        Assert.Equal(["blobs/sha256/ab01", "blobs/sha256/ab02"], page.Objects.Select(o => o.Name));
        Assert.Null(page.ContinuationToken);

        var blobs = await _backend.ListAsync("blobs", null, 10, _ct);
        Assert.Equal(["blobs/sha256/ab01", "blobs/sha256/ab02", "blobs/sha256/ac01", "blobsx/ab"], blobs.Objects.Select(o => o.Name));

        var first = await _backend.ListAsync("blobs/", null, 1, _ct);
        var second = await _backend.ListAsync("blobs/", first.ContinuationToken, 10, _ct);
        Assert.Equal(["blobs/sha256/ab02", "blobs/sha256/ac01"], second.Objects.Select(o => o.Name));

        Assert.Empty((await _backend.ListAsync("nothing/here/", null, 10, _ct)).Objects);
    }

    [Fact]
    public async Task ListAsync_BadArguments_Throw()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _backend.ListAsync("../", null, 10, _ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _backend.ListAsync("", null, 0, _ct));
    }

    [Theory]
    [InlineData("../escaped")]
    [InlineData("a/../../escaped")]
    [InlineData("/tmp/escaped")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("~tmp/x")]
    [InlineData("a\\..\\..\\escaped")]
    public async Task AllOperations_TraversalNames_RejectedAndNothingWritten(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _backend.UploadAsync(name, new MemoryStream([1]), 1, _ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _backend.StatAsync(name, _ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _backend.OpenReadAsync(name, 0, null, _ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _backend.DeleteAsync(name, _ct));

        // Nothing was written anywhere: not next to the root, not inside it.
        Assert.Equal([_backend.Root], Directory.GetFileSystemEntries(_dir.Path));
        Assert.Empty(Directory.GetFiles(_backend.Root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task UploadAsync_ContentShorterThanLength_LeavesNothing()
    {
        await Assert.ThrowsAsync<InvalidDataException>(() => _backend.UploadAsync("short", new MemoryStream([1, 2]), 3, _ct));
        await AssertNothingStoredAsync("short");
    }

    [Fact]
    public async Task UploadAsync_ContentLongerThanLength_LeavesNothing()
    {
        await Assert.ThrowsAsync<InvalidDataException>(() => _backend.UploadAsync("long", new MemoryStream([1, 2, 3, 4]), 3, _ct));
        await AssertNothingStoredAsync("long");
    }

    [Fact]
    public async Task UploadAsync_SourceFailsMidway_LeavesNothingAndKeepsOldObject()
    {
        await _backend.UploadAsync("kept", new MemoryStream([9]), 1, _ct);
        var failing = new FailingStream(RandomNumberGenerator.GetBytes(500_000), failAfter: 200_000);

        await Assert.ThrowsAsync<IOException>(() => _backend.UploadAsync("kept", failing, 500_000, _ct));
        await Assert.ThrowsAsync<IOException>(() => _backend.UploadAsync("new/object", new FailingStream(new byte[10], 5), 10, _ct));

        Assert.Equal([9], await ReadAllAsync("kept", 0, null));
        await AssertNothingStoredAsync("new/object");
    }

    [Fact]
    public async Task UploadAsync_Cancelled_LeavesNothing()
    {
        using var cts = new CancellationTokenSource();
        var stream = new FailingStream(new byte[1000], failAfter: 500, onFail: cts.Cancel);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _backend.UploadAsync("cancelled", stream, 1000, cts.Token));
        await AssertNothingStoredAsync("cancelled");
    }

    [Fact]
    public async Task UploadAsync_InProgress_IsInvisible()
    {
        var gate = new GatedStream(new byte[1000], releaseAfter: 400);
        var upload = _backend.UploadAsync("pending/obj", gate, 1000, _ct);
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(10), _ct);

        Assert.Null(await _backend.StatAsync("pending/obj", _ct));
        Assert.Null(await _backend.OpenReadAsync("pending/obj", 0, null, _ct));
        Assert.Empty((await _backend.ListAsync("", null, 100, _ct)).Objects);

        gate.Release();
        await upload;
        Assert.Equal(1000, (await _backend.StatAsync("pending/obj", _ct))!.Size);
        Assert.Single((await _backend.ListAsync("", null, 100, _ct)).Objects);
    }

    private async Task AssertNothingStoredAsync(string name)
    {
        Assert.Null(await _backend.StatAsync(name, _ct));
        Assert.Empty(Directory.GetFiles(Path.Combine(_backend.Root, FileSystemBackend.TempDirectoryName)));
        Assert.DoesNotContain((await _backend.ListAsync("", null, 1000, _ct)).Objects, o => o.Name == name);
    }

    private async Task<byte[]> ReadAllAsync(string name, long offset, long? length)
    {
        await using var stream = await _backend.OpenReadAsync(name, offset, length, _ct);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, _ct);
        return copy.ToArray();
    }

    /// <summary>Yields its bytes, then throws (or runs <c>onFail</c>) once <c>failAfter</c> bytes were read.</summary>
    private sealed class FailingStream(byte[] data, int failAfter, Action? onFail = null) : MemoryStream(data)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= failAfter)
            {
                if (onFail is null)
                {
                    throw new IOException("source broke");
                }
                onFail();
                cancellationToken.ThrowIfCancellationRequested();
            }
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, failAfter - (int)Position)], cancellationToken);
        }
    }

    /// <summary>Yields <c>releaseAfter</c> bytes, then waits for <see cref="Release"/> before the rest.</summary>
    private sealed class GatedStream(byte[] data, int releaseAfter) : MemoryStream(data)
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => _reached.Task;

        public void Release() => _released.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= releaseAfter && !_released.Task.IsCompleted)
            {
                _reached.TrySetResult();
                await _released.Task.WaitAsync(cancellationToken);
            }
            var limit = Position < releaseAfter ? releaseAfter - (int)Position : buffer.Length;
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, limit)], cancellationToken);
        }
    }
}
