using System.Collections.Concurrent;
using Shoal.Core.Blobs;
using Shoal.Core.IO;

namespace Shoal.Core.Store;

/// <summary>
/// A content-addressed blob store on the local filesystem.
/// </summary>
/// <remarks>
/// Layout under <see cref="BlobStoreOptions.Root"/>:
/// <code>
/// blobs/sha256/ab/cd/abcd…/data           the bytes (visible only once verified)
/// blobs/sha256/ab/cd/abcd…/meta.json      size, timestamps, pinned / persisted flags
/// blobs/sha256/ab/cd/abcd…/metainfo.json  piece length and chaining values
/// tmp/                                    in-progress writes; emptied at start
/// </code>
/// Every path is derived from a validated <see cref="Digest"/>, never from caller text. Writes go
/// to a temp file that is hashed as it is written, fsynced, verified against the declared digest
/// and only then renamed into place; concurrent writers of one digest each write their own temp
/// file and the first rename wins.
/// </remarks>
public sealed class BlobStore
{
    private const string DataFile = "data";
    private const string MetaFile = "meta.json";
    private const string MetaInfoFile = "metainfo.json";
    private readonly BlobStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly string _blobsRoot;
    private readonly string _tmpRoot;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private long _totalBytes;
    private long _count;

    public BlobStore(BlobStoreOptions options, TimeProvider? time = null)
    {
        if (string.IsNullOrWhiteSpace(options.Root))
        {
            throw new ArgumentException("blob store root is required", nameof(options));
        }
        _options = options;
        _time = time ?? TimeProvider.System;
        Root = Path.GetFullPath(options.Root);
        _blobsRoot = Path.Combine(Root, "blobs", Digest.Sha256);
        _tmpRoot = Path.Combine(Root, "tmp");
        Directory.CreateDirectory(_blobsRoot);
        if (Directory.Exists(_tmpRoot))
        {
            // Anything here belongs to writes that died with a previous process.
            Directory.Delete(_tmpRoot, recursive: true);
        }
        Directory.CreateDirectory(_tmpRoot);
        foreach (var blob in Enumerate())
        {
            _totalBytes += blob.Size;
            _count++;
        }
    }

    /// <summary>
    /// The sum of the sizes of the blobs in the store, in bytes: the store's own accounting (counted
    /// once at start, then kept up to date by every publish and delete), not the filesystem's usage.
    /// </summary>
    public long TotalBytes => Interlocked.Read(ref _totalBytes);

    /// <summary>How many blobs the store holds (same accounting as <see cref="TotalBytes"/>).</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>The store's absolute root directory.</summary>
    public string Root { get; }

    /// <summary>True when the blob is present and complete.</summary>
    public bool Contains(Digest digest) => File.Exists(DataPath(digest));

    /// <summary>The blob's metadata, or null when it is not in the store.</summary>
    public BlobInfo? Stat(Digest digest)
    {
        var data = new FileInfo(DataPath(digest));
        if (!data.Exists)
        {
            return null;
        }
        var meta = DurableFile.ReadJson(MetaPath(digest), BlobMetadataJsonContext.Default.BlobMetadata)
            ?? new BlobMetadata { Size = data.Length, CreatedAt = data.CreationTimeUtc, LastAccessAt = data.LastWriteTimeUtc };
        return new BlobInfo(digest, meta);
    }

    /// <summary>The blob's piece metadata, or null when it is not in the store.</summary>
    public async Task<MetaInfo?> GetMetaInfoAsync(Digest digest, CancellationToken cancellationToken)
    {
        if (!Contains(digest))
        {
            return null;
        }
        var path = MetaInfoPath(digest);
        try
        {
            var info = MetaInfo.FromJson(await File.ReadAllBytesAsync(path, cancellationToken));
            // A piece length the policy no longer picks was stored by an earlier version: derived
            // again, so every store of the cluster hands out the same metainfo (its info hash decides
            // which swarm a peer joins).
            if (info.Digest == digest && info.PieceLength == PieceLengthPolicy.For(info.Length))
            {
                return info;
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or FormatException)
        {
        }
        // Missing, damaged or outdated: derive it again from the verified bytes.
        await using var stream = OpenRead(digest, touch: false);
        if (stream is null)
        {
            return null;
        }
        var computed = await BlobHasher.ComputeAsync(stream, stream.Length, cancellationToken);
        DurableFile.WriteAllBytes(path, computed.ToJson());
        return computed;
    }

    /// <summary>
    /// Opens the blob for reading (seekable, so Range reads are cheap), or returns null when absent.
    /// Records the access unless <paramref name="touch"/> is false.
    /// </summary>
    public FileStream? OpenRead(Digest digest, bool touch = true)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(DataPath(digest), new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0,
            });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        if (touch)
        {
            Touch(digest);
        }
        return stream;
    }

    /// <summary>Starts writing a blob whose digest is checked at <see cref="BlobWriter.CommitAsync"/>.</summary>
    /// <param name="expectedLength">The length when known (it fixes the piece length; unknown lengths work too).</param>
    public BlobWriter CreateWriter(long? expectedLength = null)
        => new(this, Path.Combine(_tmpRoot, Guid.NewGuid().ToString("N")), expectedLength);

    /// <summary>Streams <paramref name="source"/> into the store under <paramref name="expected"/>.</summary>
    /// <exception cref="DigestMismatchException">The bytes do not hash to <paramref name="expected"/>; nothing becomes visible.</exception>
    /// <exception cref="InvalidDataException">The stream's length differs from <paramref name="expectedLength"/>.</exception>
    public async Task<BlobCommitResult> WriteAsync(Digest expected, Stream source, long? expectedLength, CancellationToken cancellationToken)
    {
        if (Contains(expected) && Stat(expected) is { } existing)
        {
            // Content addressing: the bytes are known. Drain nothing; the caller's stream is theirs.
            var info = await GetMetaInfoAsync(expected, cancellationToken);
            if (info is not null)
            {
                return new BlobCommitResult(expected, existing.Size, info, Created: false);
            }
        }
        await using var writer = CreateWriter(expectedLength);
        await writer.CopyFromAsync(source, cancellationToken);
        return await writer.CommitAsync(expected, cancellationToken);
    }

    /// <summary>
    /// Moves an already-written file (e.g. a finished upload) into the store after hashing it.
    /// The file is consumed on success and left in place on failure.
    /// </summary>
    public async Task<BlobCommitResult> CommitFileAsync(string path, Digest expected, CancellationToken cancellationToken)
    {
        MetaInfo metaInfo;
        Digest actual;
        long length;
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            length = stream.Length;
            var hasher = new BlobHasher(length);
            await hasher.AppendAsync(stream, cancellationToken);
            var (digest, info) = hasher.Complete();
            actual = digest;
            metaInfo = info ?? throw new InvalidDataException("file changed while it was being hashed");
        }
        if (actual != expected)
        {
            throw new DigestMismatchException(expected, actual);
        }
        return await PublishAsync(path, expected, length, metaInfo, cancellationToken);
    }

    /// <summary>
    /// Moves a file known to hash to its digest (<see cref="VerifiedFile.FromVerifiedPieces"/>) into
    /// the store, consumed on success. Only verified files can be published this way; between the check
    /// and this call the caller may already serve the bytes it now knows are right.
    /// </summary>
    public Task<BlobCommitResult> PublishAsync(VerifiedFile file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        return PublishAsync(file.Path, file.Digest, file.MetaInfo.Length, file.MetaInfo, cancellationToken);
    }

    /// <summary>Sets the pinned and/or persisted flags of a present blob. Returns false when absent.</summary>
    public bool UpdateFlags(Digest digest, bool? pinned = null, bool? persisted = null)
    {
        var current = Stat(digest);
        if (current is null)
        {
            return false;
        }
        var updated = current.Metadata with
        {
            Pinned = pinned ?? current.Metadata.Pinned,
            Persisted = persisted ?? current.Metadata.Persisted,
        };
        DurableFile.WriteJson(MetaPath(digest), updated, BlobMetadataJsonContext.Default.BlobMetadata);
        return true;
    }

    /// <summary>Removes a blob. Returns false when it was not present.</summary>
    public bool Delete(Digest digest)
    {
        var directory = BlobDirectory(digest);
        var data = DataPath(digest);
        var gate = _locks.GetOrAdd(digest.Hex, static _ => new SemaphoreSlim(1, 1));
        gate.Wait();
        try
        {
            if (Stat(digest) is not { } info)
            {
                return false;
            }
            // Remove the data first: from that moment on the blob is invisible.
            DurableFile.TryDelete(data);
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
            Interlocked.Add(ref _totalBytes, -info.Size);
            Interlocked.Decrement(ref _count);
            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Lists every blob in the store (order unspecified).</summary>
    public IEnumerable<BlobInfo> Enumerate()
    {
        foreach (var first in SafeEnumerateDirectories(_blobsRoot))
        {
            foreach (var second in SafeEnumerateDirectories(first))
            {
                foreach (var blob in SafeEnumerateDirectories(second))
                {
                    if (Digest.TryParse(Digest.Sha256 + ":" + Path.GetFileName(blob), out var digest) && Stat(digest) is { } info)
                    {
                        yield return info;
                    }
                }
            }
        }
    }

    internal async Task<BlobCommitResult> PublishAsync(string tempPath, Digest digest, long length, MetaInfo metaInfo, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(digest.Hex, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (Contains(digest))
            {
                DurableFile.TryDelete(tempPath);
                return new BlobCommitResult(digest, length, metaInfo, Created: false);
            }
            // The bytes first: a download's pieces, or a fetched file, were written without a flush.
            DurableFile.SyncFile(tempPath);
            var directory = BlobDirectory(digest);
            Directory.CreateDirectory(directory);
            var now = _time.GetUtcNow();
            DurableFile.WriteAllBytes(MetaInfoPath(digest), metaInfo.ToJson());
            DurableFile.WriteJson(MetaPath(digest), new BlobMetadata { Size = length, CreatedAt = now, LastAccessAt = now }, BlobMetadataJsonContext.Default.BlobMetadata);
            // The rename is the moment of visibility; everything it depends on is already durable.
            File.Move(tempPath, DataPath(digest), overwrite: false);
            DurableFile.SyncDirectory(directory);
            Interlocked.Add(ref _totalBytes, length);
            Interlocked.Increment(ref _count);
            return new BlobCommitResult(digest, length, metaInfo, Created: true);
        }
        finally
        {
            gate.Release();
        }
    }

    private void Touch(Digest digest)
    {
        var current = Stat(digest);
        if (current is null)
        {
            return;
        }
        var now = _time.GetUtcNow();
        if (now - current.Metadata.LastAccessAt < _options.AccessTimeResolution)
        {
            return;
        }
        try
        {
            DurableFile.WriteJson(MetaPath(digest), current.Metadata with { LastAccessAt = now }, BlobMetadataJsonContext.Default.BlobMetadata);
        }
        catch (IOException)
        {
            // Access times are advisory; a concurrent delete or a full disk must not fail a read.
        }
    }

    private static string[] SafeEnumerateDirectories(string path)
    {
        try
        {
            return Directory.EnumerateDirectories(path).ToArray();
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private string BlobDirectory(Digest digest)
    {
        if (digest.IsEmpty)
        {
            throw new ArgumentException("empty digest", nameof(digest));
        }
        return Path.Combine(_blobsRoot, digest.Hex[..2], digest.Hex[2..4], digest.Hex);
    }

    private string DataPath(Digest digest) => Path.Combine(BlobDirectory(digest), DataFile);

    private string MetaPath(Digest digest) => Path.Combine(BlobDirectory(digest), MetaFile);

    private string MetaInfoPath(Digest digest) => Path.Combine(BlobDirectory(digest), MetaInfoFile);
}
