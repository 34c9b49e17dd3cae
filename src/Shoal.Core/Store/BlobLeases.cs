using System.Collections.Concurrent;

namespace Shoal.Core.Store;

/// <summary>
/// In-use reference counts of cached blobs (being served, written back or copied), so eviction
/// leaves them alone.
/// </summary>
public sealed class BlobLeases
{
    private readonly ConcurrentDictionary<Digest, int> _counts = new();

    /// <summary>Marks the blob in use until the returned lease is disposed.</summary>
    public Lease Acquire(Digest digest)
    {
        _counts.AddOrUpdate(digest, 1, static (_, n) => n + 1);
        return new Lease(this, digest);
    }

    /// <summary>True while at least one lease on the blob is held.</summary>
    public bool InUse(Digest digest) => _counts.TryGetValue(digest, out var n) && n > 0;

    private void Release(Digest digest)
    {
        while (true)
        {
            var n = _counts[digest];
            if (n <= 1)
            {
                if (_counts.TryRemove(KeyValuePair.Create(digest, n)))
                {
                    return;
                }
            }
            else if (_counts.TryUpdate(digest, n - 1, n))
            {
                return;
            }
        }
    }

    /// <summary>One use of a blob.</summary>
    public sealed class Lease : IDisposable
    {
        private BlobLeases? _owner;
        private readonly Digest _digest;

        internal Lease(BlobLeases owner, Digest digest)
        {
            _owner = owner;
            _digest = digest;
        }

        public void Dispose()
        {
            Interlocked.Exchange(ref _owner, null)?.Release(_digest);
        }
    }
}
