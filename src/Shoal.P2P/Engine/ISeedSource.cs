using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.P2P.Engine;

/// <summary>A complete, verified blob a peer can seed: its metainfo and the file that holds it.</summary>
/// <param name="MetaInfo">The blob's metainfo.</param>
/// <param name="File">The blob's bytes, open for reading; the engine owns and disposes it.</param>
public sealed record SeedBlob(MetaInfo MetaInfo, FileStream File);

/// <summary>
/// Where the engine finds a complete blob when a peer connects for a swarm that is not open: the
/// agent's cache, an origin's store (fetching from its backend on a miss). Null when the blob is not here.
/// </summary>
public interface ISeedSource
{
    /// <summary>The complete blob of <paramref name="digest"/>, or null when this peer does not have it.</summary>
    ValueTask<SeedBlob?> FindAsync(Digest digest, string? @namespace, CancellationToken cancellationToken);
}
