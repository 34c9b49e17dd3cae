using Shoal.TestKit;
using Shoal.Core.Store;

namespace Shoal.Origin.Tests;

/// <summary>The store's byte accounting that eviction relies on.</summary>
public sealed class StoreAccountingTests
{
    [Fact]
    public async Task TotalBytes_TracksWritesDeletesAndRestarts()
    {
        using var dir = new TempDirectory();
        var store = new BlobStore(new BlobStoreOptions { Root = dir.Path });
        var (a, dataA) = OriginHost.RandomBlob(1000);
        var (b, dataB) = OriginHost.RandomBlob(234);

        await store.WriteAsync(a, new MemoryStream(dataA), dataA.Length, CancellationToken.None);
        await store.WriteAsync(b, new MemoryStream(dataB), dataB.Length, CancellationToken.None);
        await store.WriteAsync(a, new MemoryStream(dataA), dataA.Length, CancellationToken.None); // already there
        Assert.Equal(1234, store.TotalBytes);
        Assert.Equal(2, store.Count);

        Assert.True(store.Delete(a));
        Assert.False(store.Delete(a));
        Assert.Equal(234, store.TotalBytes);

        var reopened = new BlobStore(new BlobStoreOptions { Root = dir.Path });
        Assert.Equal(234, reopened.TotalBytes);
        Assert.Equal(1, reopened.Count);
    }
}
