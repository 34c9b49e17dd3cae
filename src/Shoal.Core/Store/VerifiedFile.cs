using Shoal.Core.Blobs;

namespace Shoal.Core.Store;

/// <summary>
/// A file whose whole content matched its digest (from <see cref="FileVerifier"/>),
/// ready for <see cref="BlobStore.PublishAsync(VerifiedFile, CancellationToken)"/>. Only the store
/// creates one.
/// </summary>
public sealed class VerifiedFile
{
    internal VerifiedFile(string path, Digest digest, MetaInfo metaInfo)
    {
        Path = path;
        Digest = digest;
        MetaInfo = metaInfo;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Its verified digest.</summary>
    public Digest Digest { get; }

    /// <summary>Its metainfo (length and piece hashes).</summary>
    public MetaInfo MetaInfo { get; }
}
