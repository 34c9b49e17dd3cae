using Shoal.Core;

namespace Shoal.Origin.Internal;

/// <summary>
/// Gets a blob that was just committed to the cache into the store of record. The upload is
/// acknowledged when this returns, so an implementation returns once the blob is persisted
/// (<see cref="WriteThrough"/>) or durably scheduled to be (a write-back queue).
/// </summary>
internal interface IWriteBack
{
    /// <summary>Persists (or durably schedules) the cached blob <paramref name="digest"/>.</summary>
    Task PersistAsync(Digest digest, CancellationToken cancellationToken);
}
