using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Shoal.Core.Blobs;

namespace Shoal.Core.Store;

/// <summary>
/// Computes a file's SHA-256 front to back while the file is still being filled, so that checking
/// the whole blob at the end costs only its last bytes. It reads the file itself (never bytes a
/// caller hands it), which is what lets it vouch for the file with a <see cref="VerifiedFile"/>.
/// Not thread-safe: one call at a time.
/// </summary>
public sealed class FileVerifier : IDisposable
{
    private const int ChunkSize = 1024 * 1024;

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly SafeFileHandle _file;
    private bool _disposed;

    /// <summary>Opens <paramref name="path"/> for reading (shared with its writer).</summary>
    public FileVerifier(string path)
    {
        Path = path;
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Bytes hashed so far (from the start of the file).</summary>
    public long Hashed { get; private set; }

    /// <summary>Hashes the file up to <paramref name="end"/> (no-op when already there). The caller guarantees those bytes are final.</summary>
    public async Task AdvanceToAsync(long end, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (end <= Hashed)
        {
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (Hashed < end)
            {
                var want = (int)Math.Min(ChunkSize, end - Hashed);
                var read = await RandomAccess.ReadAsync(_file, buffer.AsMemory(0, want), Hashed, cancellationToken);
                if (read == 0)
                {
                    throw new EndOfStreamException($"{Path} ends at {Hashed}, before {end}");
                }
                _hash.AppendData(buffer, 0, read);
                Hashed += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Hashes the rest of the file and checks it is the blob <paramref name="metaInfo"/> describes;
    /// the result can be published with <see cref="BlobStore.PublishAsync(VerifiedFile, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="DigestMismatchException">The file's digest is not the metainfo's.</exception>
    /// <exception cref="InvalidDataException">The file's length is not the metainfo's.</exception>
    public async Task<VerifiedFile> VerifyAsync(MetaInfo metaInfo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var length = RandomAccess.GetLength(_file);
        if (length != metaInfo.Length || Hashed > length)
        {
            throw new InvalidDataException($"{Path} holds {length} bytes, {metaInfo.Digest} has {metaInfo.Length}");
        }
        await AdvanceToAsync(length, cancellationToken);
        var actual = Digest.FromSha256(_hash.GetHashAndReset());
        Hashed = 0;
        if (actual != metaInfo.Digest)
        {
            throw new DigestMismatchException(metaInfo.Digest, actual);
        }
        return new VerifiedFile(Path, actual, metaInfo);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _hash.Dispose();
        _file.Dispose();
    }
}
