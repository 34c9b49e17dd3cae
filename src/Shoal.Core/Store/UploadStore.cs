using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Shoal.Core.Blobs;
using Shoal.Core.IO;

namespace Shoal.Core.Store;

/// <summary>
/// Resumable upload sessions on disk (the registry API's POST / PATCH / PUT flow, and origins'
/// chunked uploads). A session survives restarts; a chunk that fails midway is cut off again, so
/// a session only ever holds whole chunks.
/// </summary>
/// <remarks>Layout: <c>uploads/&lt;id&gt;/data</c> and <c>uploads/&lt;id&gt;/session.json</c>; ids are 32 lowercase hex characters.</remarks>
public sealed class UploadStore
{
    private readonly string _root;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public UploadStore(string root, TimeProvider? time = null)
    {
        _root = Path.GetFullPath(Path.Combine(root, "uploads"));
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(_root);
    }

    /// <summary>Starts a session and returns its id.</summary>
    public UploadSession Start(string? repository = null)
    {
        var id = Guid.NewGuid().ToString("N");
        var directory = Path.Combine(_root, id);
        Directory.CreateDirectory(directory);
        var session = new UploadSession(id, repository, _time.GetUtcNow(), 0);
        File.Create(Path.Combine(directory, "data")).Dispose();
        DurableFile.WriteJson(Path.Combine(directory, "session.json"), session.ToRecord(), UploadJsonContext.Default.UploadRecord);
        return session;
    }

    /// <summary>The session with <paramref name="id"/>, or null when unknown or malformed.</summary>
    public UploadSession? Get(string? id)
    {
        if (!IsValidId(id))
        {
            return null;
        }
        var directory = Path.Combine(_root, id);
        var data = new FileInfo(Path.Combine(directory, "data"));
        var record = DurableFile.ReadJson(Path.Combine(directory, "session.json"), UploadJsonContext.Default.UploadRecord);
        if (!data.Exists || record is null)
        {
            return null;
        }
        return new UploadSession(id, record.Repository, record.StartedAt, data.Length);
    }

    /// <summary>
    /// Appends <paramref name="body"/> to the session. When <paramref name="expectedOffset"/> is given it must
    /// equal the session's current size. At most <paramref name="maxLength"/> bytes are accepted when given.
    /// </summary>
    public async Task<UploadAppendResult> AppendAsync(string id, Stream body, long? expectedOffset, long? maxLength, CancellationToken cancellationToken)
    {
        if (!IsValidId(id))
        {
            return UploadAppendResult.Failed(UploadAppendError.Unknown);
        }
        var gate = _locks.GetOrAdd(id, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var session = Get(id);
            if (session is null)
            {
                return UploadAppendResult.Failed(UploadAppendError.Unknown);
            }
            if (expectedOffset is { } offset && offset != session.Size)
            {
                return UploadAppendResult.Failed(UploadAppendError.RangeInvalid, session.Size);
            }
            var path = DataPath(id);
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, 0, FileOptions.Asynchronous);
            file.Seek(session.Size, SeekOrigin.Begin);
            var buffer = ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
            long written = 0;
            var completed = false;
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer.AsMemory(0, StreamBuffers.CopyBufferSize), cancellationToken)) > 0)
                {
                    written += read;
                    if (maxLength is { } max && written > max)
                    {
                        return UploadAppendResult.Failed(UploadAppendError.TooLarge, session.Size);
                    }
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
                completed = true;
                return UploadAppendResult.Ok(session.Size + written, written);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                if (!completed)
                {
                    // Cut the partial chunk off: the session stays at a chunk boundary.
                    file.SetLength(session.Size);
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The path of the session's bytes, for committing into a <see cref="BlobStore"/>.</summary>
    public string DataPath(string id)
    {
        if (!IsValidId(id))
        {
            throw new ArgumentException("malformed upload id", nameof(id));
        }
        return Path.Combine(_root, id, "data");
    }

    /// <summary>Opens the session's bytes for reading.</summary>
    public FileStream OpenRead(string id)
        => new(DataPath(id), FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>Hashes the session's bytes.</summary>
    public async Task<Digest> ComputeDigestAsync(string id, CancellationToken cancellationToken)
    {
        await using var stream = OpenRead(id);
        var hasher = new BlobHasher(stream.Length);
        await hasher.AppendAsync(stream, cancellationToken);
        return hasher.Complete().Digest;
    }

    /// <summary>Commits the session into <paramref name="store"/> (verifying the digest) and ends it.</summary>
    /// <exception cref="DigestMismatchException">The bytes do not match; the session stays for the client to retry or cancel.</exception>
    public async Task<BlobCommitResult> CommitAsync(string id, Digest expected, BlobStore store, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(id, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var result = await store.CommitFileAsync(DataPath(id), expected, cancellationToken);
            Delete(id);
            return result;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Ends a session and removes its bytes. Returns false when unknown.</summary>
    public bool Delete(string id)
    {
        if (!IsValidId(id))
        {
            return false;
        }
        var directory = Path.Combine(_root, id);
        if (!Directory.Exists(directory))
        {
            return false;
        }
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        _locks.TryRemove(id, out _);
        return true;
    }

    /// <summary>Removes sessions started more than <paramref name="maxAge"/> ago; returns how many.</summary>
    public int PurgeOlderThan(TimeSpan maxAge)
    {
        var cutoff = _time.GetUtcNow() - maxAge;
        var purged = 0;
        foreach (var directory in Directory.EnumerateDirectories(_root))
        {
            var id = Path.GetFileName(directory);
            var session = Get(id);
            if (session is null || session.StartedAt < cutoff)
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                    purged++;
                }
                catch (IOException)
                {
                }
            }
        }
        return purged;
    }

    /// <summary>True for ids this store could have issued.</summary>
    public static bool IsValidId([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? id)
        => id is { Length: 32 } && id.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) && c <= 'f');
}

/// <summary>An upload session.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Repository">The repository it was started in, when any.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="Size">Bytes received so far.</param>
public sealed record UploadSession(string Id, string? Repository, DateTimeOffset StartedAt, long Size)
{
    internal UploadRecord ToRecord() => new(Repository, StartedAt);
}

/// <summary>Why an append was refused.</summary>
public enum UploadAppendError
{
    /// <summary>Accepted.</summary>
    None,

    /// <summary>No such session.</summary>
    Unknown,

    /// <summary>The chunk does not start at the session's current size.</summary>
    RangeInvalid,

    /// <summary>The chunk is longer than allowed.</summary>
    TooLarge,
}

/// <summary>The outcome of <see cref="UploadStore.AppendAsync"/>.</summary>
public readonly record struct UploadAppendResult(UploadAppendError Error, long Size, long Written)
{
    public bool Succeeded => Error == UploadAppendError.None;

    public static UploadAppendResult Ok(long size, long written) => new(UploadAppendError.None, size, written);

    public static UploadAppendResult Failed(UploadAppendError error, long size = 0) => new(error, size, 0);
}

internal sealed record UploadRecord(
    [property: JsonPropertyName("repository")] string? Repository,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt);

[JsonSerializable(typeof(UploadRecord))]
internal sealed partial class UploadJsonContext : JsonSerializerContext;
