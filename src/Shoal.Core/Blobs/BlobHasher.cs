using System.Security.Cryptography;

namespace Shoal.Core.Blobs;

/// <summary>
/// Hashes a blob in one pass as its bytes stream by: the whole-blob SHA-256 and the SHA-256 of each
/// piece, so storing a blob and generating its <see cref="MetaInfo"/> read the data once.
/// </summary>
public sealed class BlobHasher : IDisposable
{
    private readonly IncrementalHash _whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _piece = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly MemoryStream _pieceHashes = new();
    private readonly long? _expectedLength;
    private readonly int _pieceLength;
    private int _inPiece;

    /// <param name="expectedLength">
    /// The blob's length when known up front; it fixes the piece length. When null the piece length
    /// is decided at <see cref="Complete"/> by re-deriving it, which requires <see cref="PieceLengthPolicy"/>
    /// to yield the same value; see <see cref="Complete"/>.
    /// </param>
    public BlobHasher(long? expectedLength)
    {
        _expectedLength = expectedLength;
        _pieceLength = expectedLength is { } l ? PieceLengthPolicy.For(l) : PieceLengthPolicy.MinPieceLength;
    }

    /// <summary>Bytes hashed so far.</summary>
    public long Length { get; private set; }

    /// <summary>Adds the next bytes of the blob.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        _whole.AppendData(data);
        Length += data.Length;
        while (!data.IsEmpty)
        {
            var take = Math.Min(data.Length, _pieceLength - _inPiece);
            _piece.AppendData(data[..take]);
            _inPiece += take;
            data = data[take..];
            if (_inPiece == _pieceLength)
            {
                FinishPiece();
            }
        }
    }

    /// <summary>The whole-blob digest of the bytes hashed so far (the hasher may continue).</summary>
    public Digest CurrentDigest()
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        _whole.GetCurrentHash(hash);
        return Digest.FromSha256(hash);
    }

    /// <summary>
    /// Finishes hashing. Returns null metainfo when the length was not known up front and the piece
    /// length the policy picks for the final length differs from the one used while streaming; the
    /// caller then computes metainfo from the stored file.
    /// </summary>
    public (Digest Digest, MetaInfo? MetaInfo) Complete()
    {
        if (_inPiece > 0)
        {
            FinishPiece();
        }
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        _whole.GetHashAndReset(hash);
        var digest = Digest.FromSha256(hash);
        if (_expectedLength is { } expected && expected != Length)
        {
            return (digest, null);
        }
        if (PieceLengthPolicy.For(Length) != _pieceLength)
        {
            return (digest, null);
        }
        return (digest, new MetaInfo(digest, Length, _pieceLength, _pieceHashes.ToArray()));
    }

    /// <summary>Computes a blob's metainfo by reading <paramref name="source"/> to its end.</summary>
    public static async Task<MetaInfo> ComputeAsync(Stream source, long length, CancellationToken cancellationToken)
    {
        using var hasher = new BlobHasher(length);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, StreamBuffers.CopyBufferSize), cancellationToken)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return hasher.Complete().MetaInfo ?? throw new InvalidDataException($"stream held {hasher.Length} bytes, expected {length}");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _whole.Dispose();
        _piece.Dispose();
        _pieceHashes.Dispose();
    }

    private void FinishPiece()
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        _piece.GetHashAndReset(hash);
        _pieceHashes.Write(hash);
        _inPiece = 0;
    }
}
