using Shoal.Core;
using Shoal.Core.Store;

namespace Shoal.Origin.Internal;

/// <summary>Without a backend the cache is the store of record: a committed blob is persisted as it stands.</summary>
internal sealed class LocalStoreOfRecord : IWriteBack
{
    private readonly BlobStore _store;

    public LocalStoreOfRecord(BlobStore store) => _store = store;

    /// <inheritdoc />
    public Task PersistAsync(Digest digest, CancellationToken cancellationToken)
    {
        _store.UpdateFlags(digest, persisted: true);
        return Task.CompletedTask;
    }
}
