using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.Storage;

namespace Shoal.Origin.Internal;

/// <summary>
/// Writes each committed blob to the backend before the upload is acknowledged, then marks it
/// persisted (so eviction may drop it).
/// </summary>
internal sealed class WriteThrough : IWriteBack
{
    private readonly BlobStore _store;
    private readonly IBlobBackend _backend;
    private readonly ILogger _logger;

    public WriteThrough(BlobStore store, IBlobBackend backend, ILogger<WriteThrough> logger)
    {
        _store = store;
        _backend = backend;
        _logger = logger;
    }

    /// <inheritdoc />
    public async Task PersistAsync(Digest digest, CancellationToken cancellationToken)
    {
        var info = _store.Stat(digest) ?? throw new InvalidOperationException($"{digest} is not in the cache");
        if (info.Metadata.Persisted)
        {
            return;
        }
        await using (var stream = _store.OpenRead(digest, touch: false) ?? throw new InvalidOperationException($"{digest} left the cache"))
        {
            await _backend.UploadAsync(BackendNames.ForBlob(digest), stream, stream.Length, cancellationToken);
        }
        _store.UpdateFlags(digest, persisted: true);
        Log.WrittenThrough(_logger, digest, info.Size);
    }
}
