namespace Shoal.Storage;

/// <summary>
/// Stores objects of another backend in the <see cref="DistributionLayout"/>, so that a Docker
/// registry on the same storage sees Shoal's blobs and Shoal sees the registry's. Works over any
/// backend that stores names (not a registry backend). Built by <see cref="BackendFactory"/> for
/// <c>layout: distribution</c>.
/// </summary>
public sealed class DistributionLayoutBackend : IBlobBackend, IDisposable
{
    /// <summary>Wraps <paramref name="inner"/>, which it owns (disposes when disposable).</summary>
    public DistributionLayoutBackend(IBlobBackend inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (inner is INamespaceBoundBackend)
        {
            throw new ArgumentException("a namespace-bound backend (a registry) has no names to lay out", nameof(inner));
        }
        Inner = inner;
    }

    /// <summary>The backend that stores the mapped names.</summary>
    public IBlobBackend Inner { get; }

    /// <inheritdoc />
    public Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken)
        => MapAsync(Inner.StatAsync(DistributionLayout.ToStored(name), cancellationToken), name);

    /// <inheritdoc />
    public Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
        => Inner.OpenReadAsync(DistributionLayout.ToStored(name), offset, length, cancellationToken);

    /// <inheritdoc />
    public Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
        => Inner.UploadAsync(DistributionLayout.ToStored(name), content, length, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Continuation tokens are the inner backend's. Stored objects that are not Shoal objects are
    /// skipped, so a page may hold fewer than <paramref name="limit"/> objects; it holds at least one
    /// unless the listing is complete.
    /// </remarks>
    public async Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        if (DistributionLayout.ToStoredPrefix(prefix) is not { } stored)
        {
            return new BackendListPage([], null);
        }
        var objects = new List<BackendObject>();
        var token = continuationToken;
        do
        {
            var page = await Inner.ListAsync(stored, token, limit, cancellationToken);
            foreach (var item in page.Objects)
            {
                if (DistributionLayout.TryFromStored(item.Name, out var name) && name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    objects.Add(item with { Name = name });
                }
            }
            token = page.ContinuationToken;
        }
        while (objects.Count == 0 && token is not null);
        return new BackendListPage(objects, token);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
        => Inner.DeleteAsync(DistributionLayout.ToStored(name), cancellationToken);

    /// <inheritdoc />
    public void Dispose() => (Inner as IDisposable)?.Dispose();

    private static async Task<BackendObject?> MapAsync(Task<BackendObject?> stat, string name)
        => await stat is { } found ? found with { Name = name } : null;
}
