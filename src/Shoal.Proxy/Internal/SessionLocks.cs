namespace Shoal.Proxy.Internal;

/// <summary>
/// One asynchronous lock per upload session, so a chunk, a commit and a cancel of the same session
/// never interleave (a commit must upload exactly the bytes it verified). Entries live only while
/// someone holds or waits for them.
/// </summary>
internal sealed class SessionLocks
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Waits for the session's lock; dispose the result to release it.</summary>
    public async Task<IDisposable> AcquireAsync(string id, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(id, out entry!))
            {
                entry = new Entry();
                _entries[id] = entry;
            }
            entry.Users++;
        }
        try
        {
            await entry.Gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(id, entry);
            throw;
        }
        return new Releaser(this, id, entry);
    }

    /// <summary>How many sessions have a lock entry (tests).</summary>
    internal int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    private void Leave(string id, Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Users == 0)
            {
                _entries.Remove(id);
                entry.Gate.Dispose();
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Users { get; set; }
    }

    private sealed class Releaser(SessionLocks owner, string id, Entry entry) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                entry.Gate.Release();
                owner.Leave(id, entry);
            }
        }
    }
}
