using Shoal.Core.Blobs;

namespace Shoal.Core.Store;

/// <summary>A blob present in a store.</summary>
/// <param name="Digest">The blob's digest.</param>
/// <param name="Metadata">Its recorded metadata.</param>
public sealed record BlobInfo(Digest Digest, BlobMetadata Metadata)
{
    /// <summary>The blob's length in bytes.</summary>
    public long Size => Metadata.Size;
}

/// <summary>The outcome of committing bytes to a store.</summary>
/// <param name="Digest">The digest the bytes were verified against.</param>
/// <param name="Size">Their length.</param>
/// <param name="MetaInfo">The blob's piece metadata.</param>
/// <param name="Created">False when the blob was already present (the new copy was discarded).</param>
public sealed record BlobCommitResult(Digest Digest, long Size, MetaInfo MetaInfo, bool Created);
