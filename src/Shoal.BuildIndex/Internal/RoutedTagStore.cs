using Microsoft.Extensions.Logging;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Storage;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// Picks where a repository's records live by <see cref="BuildIndexOptions.Backends"/> (the first
/// rule whose expression matches the whole name): a storage backend (filesystem, s3, gcs, hdfs) holds
/// them itself, named by its layout (<see cref="ShoalBackendTagStore"/>, <see cref="DistributionTagStore"/>);
/// a repository whose rule names a registry, or that no rule matches, keeps them in the local
/// <see cref="FileTagStore"/> (a registry's own tags are pulled through by <see cref="UpstreamIndex"/>).
/// The catalog merges every store's repositories, each only from the store it routes to.
/// </summary>
internal sealed class RoutedTagStore : ITagStore
{
    private readonly IndexBackends _backends;
    private readonly FileTagStore _local;
    private readonly Dictionary<IBlobBackend, BackendTagStore> _stores = new(ReferenceEqualityComparer.Instance);

    public RoutedTagStore(IndexBackends backends, FileTagStore local, TimeSpan tagTtl, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _backends = backends;
        _local = local;
        var logger = loggerFactory.CreateLogger<RoutedTagStore>();
        foreach (var (backend, options) in backends.All)
        {
            if (options.IsRegistry)
            {
                continue;
            }
            _stores[backend] = options.IsDistributionLayout
                ? new DistributionTagStore(backend, time, tagTtl, logger)
                : new ShoalBackendTagStore(backend, time, tagTtl, logger);
        }
    }

    /// <summary>True when some rule stores tags in a backend.</summary>
    public bool HasBackendStores => _stores.Count > 0;

    /// <summary>The store of <paramref name="repository"/>.</summary>
    public ITagStore For(string repository)
        => _backends.Router.Match(repository) is { } backend && _stores.TryGetValue(backend, out var store) ? store : _local;

    public Task<Digest?> GetTagAsync(string repository, string tag, CancellationToken cancellationToken)
        => For(repository).GetTagAsync(repository, tag, cancellationToken);

    public Task PutTagAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken)
        => For(repository).PutTagAsync(repository, tag, digest, cancellationToken);

    public Task<bool> DeleteTagAsync(string repository, string tag, CancellationToken cancellationToken)
        => For(repository).DeleteTagAsync(repository, tag, cancellationToken);

    public Task<ListPage?> ListTagsAsync(string repository, string? last, int? limit, CancellationToken cancellationToken)
        => For(repository).ListTagsAsync(repository, last, limit, cancellationToken);

    public Task<ManifestRecord?> GetManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => For(repository).GetManifestAsync(repository, digest, cancellationToken);

    public Task PutManifestAsync(string repository, Digest digest, ManifestRecord record, CancellationToken cancellationToken)
        => For(repository).PutManifestAsync(repository, digest, record, cancellationToken);

    public Task<bool> DeleteManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => For(repository).DeleteManifestAsync(repository, digest, cancellationToken);

    public Task<bool> HasBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => For(repository).HasBlobLinkAsync(repository, digest, cancellationToken);

    public Task PutBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => For(repository).PutBlobLinkAsync(repository, digest, cancellationToken);

    public Task<bool> DeleteBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => For(repository).DeleteBlobLinkAsync(repository, digest, cancellationToken);

    public async Task<ListPage> ListRepositoriesAsync(string? last, int? limit, CancellationToken cancellationToken)
    {
        if (_stores.Count == 0)
        {
            return await _local.ListRepositoriesAsync(last, limit, cancellationToken);
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in (await _local.ListRepositoriesAsync(null, null, cancellationToken)).Items)
        {
            if (ReferenceEquals(For(name), _local))
            {
                names.Add(name);
            }
        }
        foreach (var store in _stores.Values.Distinct())
        {
            foreach (var name in await store.ListRepositoryNamesAsync(cancellationToken))
            {
                if (ReferenceEquals(For(name), store))
                {
                    names.Add(name);
                }
            }
        }
        var sorted = names.ToList();
        sorted.Sort(StringComparer.Ordinal);
        return FileTagStore.Page(sorted, last, limit);
    }

    public Task<string?> CheckWritableAsync(CancellationToken cancellationToken) => _local.CheckWritableAsync(cancellationToken);
}
