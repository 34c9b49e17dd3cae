namespace Shoal.Storage.Internal;

/// <summary>
/// A read of nothing (length 0, or from the very end of an object): an empty stream when the
/// object exists and the offset is within it, null when it does not exist, the documented
/// <see cref="ArgumentOutOfRangeException"/> when the offset lies past its end.
/// </summary>
internal static class EmptyRead
{
    /// <summary>An empty stream, once <paramref name="offset"/> is known not to lie past an object of <paramref name="size"/> bytes.</summary>
    public static Stream At(string name, long offset, long size)
    {
        if (offset > size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offset is past the end of '{name}' ({size} bytes)");
        }
        return new MemoryStream([], writable: false);
    }

    /// <summary>Null when <paramref name="name"/> does not exist in <paramref name="backend"/>, else <see cref="At"/>.</summary>
    public static async Task<Stream?> IfExistsAsync(IBlobBackend backend, string name, long offset, CancellationToken cancellationToken)
        => await backend.StatAsync(name, cancellationToken) is { } stat ? At(name, offset, stat.Size) : null;
}
