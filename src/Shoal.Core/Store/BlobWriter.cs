using System.Buffers;
using Shoal.Core.Blobs;
using Shoal.Core.IO;

namespace Shoal.Core.Store;

/// <summary>
/// Streams one blob into a <see cref="BlobStore"/>: bytes go to a private temp file and are hashed as
/// they are written (digest and metainfo in one pass, see <see cref="BlobHasher"/>);
/// <see cref="CommitAsync"/> verifies and publishes. Disposing an uncommitted writer deletes the
/// temp file, so an aborted write leaves nothing behind.
/// </summary>
public sealed class BlobWriter : IAsyncDisposable
{
    private readonly BlobStore _store;
    private readonly string _tempPath;
    private readonly long? _expectedLength;
    private readonly BlobHasher _hasher;
    private FileStream? _file;
    private bool _committed;

    internal BlobWriter(BlobStore store, string tempPath, long? expectedLength)
    {
        _store = store;
        _tempPath = tempPath;
        _expectedLength = expectedLength;
        _hasher = new BlobHasher(expectedLength);
        try
        {
            _file = new FileStream(tempPath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
                PreallocationSize = expectedLength ?? 0,
            });
        }
        catch (IOException ex) when (expectedLength > 0 && DiskFull.Explain(ex, Path.GetDirectoryName(tempPath)!, expectedLength.Value) is { } full)
        {
            // The runtime removes the file whose preallocation failed.
            throw full;
        }
    }

    /// <summary>Bytes written so far.</summary>
    public long Length => _hasher.Length;

    /// <summary>Appends bytes.</summary>
    /// <exception cref="InvalidDataException">More bytes than the declared length.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var file = _file ?? throw new InvalidOperationException("writer is closed");
        if (_expectedLength is { } limit && _hasher.Length + data.Length > limit)
        {
            throw new InvalidDataException($"blob is longer than its declared {limit} bytes");
        }
        _hasher.Append(data.Span);
        await file.WriteAsync(data, cancellationToken);
    }

    /// <summary>Copies <paramref name="source"/> to its end through a pooled buffer.</summary>
    public async Task CopyFromAsync(Stream source, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, StreamBuffers.CopyBufferSize), cancellationToken)) > 0)
            {
                await WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Verifies the bytes against <paramref name="expected"/> and makes the blob visible.</summary>
    /// <exception cref="DigestMismatchException">The bytes hash to another digest; nothing becomes visible.</exception>
    /// <exception cref="InvalidDataException">Fewer bytes than the declared length.</exception>
    public async Task<BlobCommitResult> CommitAsync(Digest expected, CancellationToken cancellationToken)
    {
        var file = _file ?? throw new InvalidOperationException("writer is closed");
        if (_expectedLength is { } limit && _hasher.Length != limit)
        {
            throw new InvalidDataException($"blob has {_hasher.Length} bytes, declared {limit}");
        }
        await file.FlushAsync(cancellationToken);
        file.Flush(flushToDisk: true);
        await file.DisposeAsync();
        _file = null;
        var length = _hasher.Length;
        var (actual, metaInfo) = _hasher.Complete();
        if (actual != expected)
        {
            throw new DigestMismatchException(expected, actual);
        }
        // Null only for a length other than the declared one, refused above.
        var result = await _store.PublishAsync(_tempPath, expected, length, metaInfo!, cancellationToken);
        _committed = true;
        return result;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync();
            _file = null;
        }
        if (!_committed)
        {
            DurableFile.TryDelete(_tempPath);
        }
    }
}
