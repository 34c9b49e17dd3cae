using System.Security.Cryptography;

namespace Shoal.Storage.Tests.Remote;

/// <summary>
/// The <see cref="IBlobBackend"/> contract, as checks each remote backend's test class runs against
/// its own server. Every check works under a fresh name prefix, so tests can share one server.
/// </summary>
internal static class BackendContract
{
    public static string Unique() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static async Task RoundTripAsync(IBlobBackend backend, int size, CancellationToken ct)
    {
        var name = $"{Unique()}/blobs/sha256/abc";
        var data = RandomNumberGenerator.GetBytes(size);
        await backend.UploadAsync(name, new NonSeekableStream(data), data.Length, ct);

        var stat = await backend.StatAsync(name, ct);
        Assert.NotNull(stat);
        Assert.Equal(name, stat.Name);
        Assert.Equal(size, stat.Size);
        Assert.Equal(data, await ReadAllAsync(backend, name, 0, null, ct));
    }

    public static async Task RangeAsync(IBlobBackend backend, CancellationToken ct)
    {
        var name = $"{Unique()}/ranged";
        var data = RandomNumberGenerator.GetBytes(10_000);
        await backend.UploadAsync(name, new MemoryStream(data), data.Length, ct);

        Assert.Equal(data[100..1100], await ReadAllAsync(backend, name, 100, 1000, ct));
        Assert.Equal(data[9_000..], await ReadAllAsync(backend, name, 9_000, null, ct));
        Assert.Equal(data[9_990..], await ReadAllAsync(backend, name, 9_990, 500, ct)); // length past the end is cut
        Assert.Empty(await ReadAllAsync(backend, name, 10_000, null, ct)); // at the end: empty
        Assert.Empty(await ReadAllAsync(backend, name, 5, 0, ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => backend.OpenReadAsync(name, 10_001, null, ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => backend.OpenReadAsync(name, -1, null, ct));
    }

    public static async Task AbsentAsync(IBlobBackend backend, CancellationToken ct)
    {
        var name = $"{Unique()}/missing";
        Assert.Null(await backend.StatAsync(name, ct));
        Assert.Null(await backend.OpenReadAsync(name, 0, null, ct));
        Assert.Null(await backend.OpenReadAsync(name, 10, 5, ct));
        Assert.False(await backend.DeleteAsync(name, ct));
    }

    public static async Task DeleteAsync(IBlobBackend backend, CancellationToken ct)
    {
        var name = $"{Unique()}/doomed";
        await backend.UploadAsync(name, new MemoryStream([1, 2, 3]), 3, ct);
        Assert.True(await backend.DeleteAsync(name, ct));
        Assert.Null(await backend.StatAsync(name, ct));
        Assert.False(await backend.DeleteAsync(name, ct));
    }

    public static async Task OverwriteAsync(IBlobBackend backend, CancellationToken ct)
    {
        var name = $"{Unique()}/twice";
        await backend.UploadAsync(name, new MemoryStream([1, 2, 3]), 3, ct);
        await backend.UploadAsync(name, new MemoryStream([4, 5]), 2, ct);
        Assert.Equal([4, 5], await ReadAllAsync(backend, name, 0, null, ct));
    }

    public static async Task ListPagingAsync(IBlobBackend backend, CancellationToken ct)
    {
        var root = Unique();
        string[] names = [$"{root}/a/1", $"{root}/a/2", $"{root}/a/sub/3", $"{root}/ab", $"{root}/b/4", $"{root}x"];
        foreach (var name in names)
        {
            await backend.UploadAsync(name, new MemoryStream([7]), 1, ct);
        }

        var all = await ListAllAsync(backend, root + "/", 2, ct);
        Assert.Equal(names[..5], all.Select(o => o.Name));
        Assert.All(all, o => Assert.Equal(1, o.Size));

        Assert.Equal([$"{root}/a/1", $"{root}/a/2", $"{root}/a/sub/3", $"{root}/ab"], (await ListAllAsync(backend, root + "/a", 3, ct)).Select(o => o.Name));
        Assert.Equal([$"{root}/a/sub/3"], (await ListAllAsync(backend, root + "/a/s", 10, ct)).Select(o => o.Name));
        Assert.Empty(await ListAllAsync(backend, root + "/none", 10, ct));

        var first = await backend.ListAsync(root + "/", null, 2, ct);
        Assert.Equal(2, first.Objects.Count);
        Assert.NotNull(first.ContinuationToken);
        await Assert.ThrowsAsync<ArgumentException>(() => backend.ListAsync("../", null, 10, ct));
    }

    /// <param name="serverRejectsIncompleteBodies">
    /// False for a test server that stores whatever body arrived before the connection broke, where
    /// only the client's failure can be checked.
    /// </param>
    public static async Task FailedUploadLeavesNothingAsync(IBlobBackend backend, CancellationToken ct, bool serverRejectsIncompleteBodies = true)
    {
        var name = $"{Unique()}/broken";
        var data = RandomNumberGenerator.GetBytes(200_000);
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => backend.UploadAsync(name, new FailingStream(data, failAfter: 150_000), data.Length, ct));
        Assert.True(Chain(failure).Any(e => e is IOException { Message: "the client went away" }), failure.ToString());

        var shortName = $"{Unique()}/short";
        await AssertThrowsInvalidData(() => backend.UploadAsync(shortName, new MemoryStream(data[..150_000]), data.Length, ct));

        var longName = $"{Unique()}/long";
        await AssertThrowsInvalidData(() => backend.UploadAsync(longName, new MemoryStream(data), data.Length - 1, ct));
        if (serverRejectsIncompleteBodies)
        {
            Assert.Null(await backend.StatAsync(longName, ct)); // the excess is found before the last byte is sent
            Assert.Null(await backend.StatAsync(name, ct));
            Assert.Null(await backend.StatAsync(shortName, ct));
        }
    }

    private static IEnumerable<Exception> Chain(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    public static async Task FailedReplaceKeepsPreviousAsync(IBlobBackend backend, CancellationToken ct)
    {
        var name = $"{Unique()}/kept";
        await backend.UploadAsync(name, new MemoryStream([1, 2, 3]), 3, ct);
        var data = RandomNumberGenerator.GetBytes(100_000);
        await Assert.ThrowsAnyAsync<Exception>(() => backend.UploadAsync(name, new FailingStream(data, failAfter: 50_000), data.Length, ct));
        Assert.Equal([1, 2, 3], await ReadAllAsync(backend, name, 0, null, ct));
    }

    public static async Task InvalidNamesAsync(IBlobBackend backend, CancellationToken ct)
    {
        foreach (var bad in new[] { "", "../x", "a//b", "a/./b", "a b", "/abs", "a/", "x?y=1", "%2e%2e/x" })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => backend.StatAsync(bad, ct));
            await Assert.ThrowsAsync<ArgumentException>(() => backend.OpenReadAsync(bad, 0, null, ct));
            await Assert.ThrowsAsync<ArgumentException>(() => backend.UploadAsync(bad, new MemoryStream([1]), 1, ct));
            await Assert.ThrowsAsync<ArgumentException>(() => backend.DeleteAsync(bad, ct));
        }
    }

    public static async Task CancelledAsync(IBlobBackend backend)
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var name = $"{Unique()}/cancelled";
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.UploadAsync(name, new MemoryStream([1, 2]), 2, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.StatAsync(name, cancelled.Token));
    }

    public static async Task<byte[]> ReadAllAsync(IBlobBackend backend, string name, long offset, long? length, CancellationToken ct)
    {
        await using var stream = await backend.OpenReadAsync(name, offset, length, ct);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, ct);
        return copy.ToArray();
    }

    public static async Task<List<BackendObject>> ListAllAsync(IBlobBackend backend, string prefix, int pageSize, CancellationToken ct)
    {
        var result = new List<BackendObject>();
        string? token = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = await backend.ListAsync(prefix, token, pageSize, ct);
            Assert.True(page.Objects.Count <= pageSize);
            result.AddRange(page.Objects);
            token = page.ContinuationToken;
            if (token is null)
            {
                return result;
            }
        }
        throw new InvalidOperationException("listing did not end");
    }

    private static async Task AssertThrowsInvalidData(Func<Task> upload)
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(upload);
        // Client libraries may wrap what the content stream threw.
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is InvalidDataException)
            {
                return;
            }
        }
        Assert.Fail($"expected an InvalidDataException, got {ex}");
    }
}

/// <summary>Content that can be read once, forward only, like a request body.</summary>
internal sealed class NonSeekableStream(byte[] data) : MemoryStream(data, writable: false)
{
    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
}

/// <summary>Content whose source breaks (an IOException) after <c>failAfter</c> bytes.</summary>
internal sealed class FailingStream(byte[] data, int failAfter) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_position >= failAfter)
        {
            throw new IOException("the client went away");
        }
        var n = Math.Min(Math.Min(count, data.Length - _position), failAfter - _position);
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
