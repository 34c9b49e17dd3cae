using Shoal.Core.Blobs;

namespace Shoal.Core.Store;

/// <summary>
/// A file whose whole content is known to hash to its digest, ready for
/// <see cref="BlobStore.PublishAsync(VerifiedFile, CancellationToken)"/>.
/// </summary>
public sealed class VerifiedFile
{
    private VerifiedFile(string path, MetaInfo metaInfo)
    {
        Path = path;
        MetaInfo = metaInfo;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Its verified digest.</summary>
    public Digest Digest => MetaInfo.Digest;

    /// <summary>Its metainfo (length and chaining values).</summary>
    public MetaInfo MetaInfo { get; }

    /// <summary>
    /// Vouches for a file assembled from pieces that each passed <see cref="MetaInfo.VerifyPiece"/>
    /// and were written unchanged at their offsets (or were read back from the file and passed it).
    /// Since every piece continues the chain of the one before it and the last ends in the digest,
    /// the file as a whole hashes to <paramref name="metaInfo"/>'s digest: no second pass is needed.
    /// </summary>
    /// <param name="pieces">The piece indexes the caller verified; all of them must be there.</param>
    /// <exception cref="InvalidDataException">A piece is missing, or the file's length is not the blob's.</exception>
    public static VerifiedFile FromVerifiedPieces(string path, MetaInfo metaInfo, Func<int, bool> pieces)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        ArgumentNullException.ThrowIfNull(pieces);
        for (var i = 0; i < metaInfo.PieceCount; i++)
        {
            if (!pieces(i))
            {
                throw new InvalidDataException($"piece {i} of {metaInfo.Digest} was not verified");
            }
        }
        var length = new FileInfo(path).Length;
        if (length != metaInfo.Length)
        {
            throw new InvalidDataException($"{path} holds {length} bytes, {metaInfo.Digest} has {metaInfo.Length}");
        }
        return new VerifiedFile(path, metaInfo);
    }
}
