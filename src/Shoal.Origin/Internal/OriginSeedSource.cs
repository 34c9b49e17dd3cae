using Shoal.Core;
using Shoal.Core.Store;
using Shoal.P2P.Engine;

namespace Shoal.Origin.Internal;

/// <summary>Seeds every blob the origin holds, fetching a miss from the backend first (as the HTTP API does).</summary>
internal sealed class OriginSeedSource(BlobStore store, BackendFetcher fetcher) : ISeedSource
{
    /// <inheritdoc />
    public async ValueTask<SeedBlob?> FindAsync(Digest digest, string? @namespace, CancellationToken cancellationToken)
    {
        if (!store.Contains(digest) && (!fetcher.CanFill || (await fetcher.FetchAsync(digest, @namespace, cancellationToken)).Status != FetchStatus.Stored))
        {
            return null;
        }
        if (await store.GetMetaInfoAsync(digest, cancellationToken) is not { } info)
        {
            return null;
        }
        var file = store.OpenRead(digest);
        return file is null ? null : new SeedBlob(info, file);
    }
}
