using Shoal.Core;
using Shoal.Core.Store;
using Shoal.P2P.Engine;

namespace Shoal.Agent.Internal;

/// <summary>Seeds the blobs of the agent's cache to peers that connect for them, until they are evicted.</summary>
internal sealed class StoreSeedSource(BlobStore store) : ISeedSource
{
    /// <inheritdoc />
    public async ValueTask<SeedBlob?> FindAsync(Digest digest, string? @namespace, CancellationToken cancellationToken)
    {
        if (!store.Contains(digest) || await store.GetMetaInfoAsync(digest, cancellationToken) is not { } info)
        {
            return null;
        }
        var file = store.OpenRead(digest, touch: false);
        return file is null ? null : new SeedBlob(info, file);
    }
}
