using System.Diagnostics.CodeAnalysis;

namespace Shoal.Tracker.Internal;

/// <summary>
/// A thread-safe least-recently-used cache bounded by the total size of its values (the caller says
/// what a value weighs). A value heavier than the whole budget is not cached.
/// </summary>
internal sealed class LruCache<TKey, TValue>
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value, long Size)>> _map = [];
    private readonly LinkedList<(TKey Key, TValue Value, long Size)> _recency = new(); // most recent first
    private readonly long _capacity;
    private readonly Func<TValue, long> _sizeOf;
    private readonly Lock _lock = new();
    private long _size;

    public LruCache(long capacity, Func<TValue, long> sizeOf)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
        _sizeOf = sizeOf;
    }

    /// <summary>Entries held.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    /// <summary>Total size of the values held.</summary>
    public long Size
    {
        get
        {
            lock (_lock)
            {
                return _size;
            }
        }
    }

    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    public void Set(TKey key, TValue value)
    {
        var size = _sizeOf(value);
        lock (_lock)
        {
            if (_map.Remove(key, out var existing))
            {
                _recency.Remove(existing);
                _size -= existing.Value.Size;
            }
            if (size > _capacity)
            {
                return;
            }
            while (_size + size > _capacity && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _map.Remove(oldest.Value.Key);
                _size -= oldest.Value.Size;
            }
            _map[key] = _recency.AddFirst((key, value, size));
            _size += size;
        }
    }
}
