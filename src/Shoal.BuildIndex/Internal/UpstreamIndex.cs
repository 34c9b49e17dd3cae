using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Storage;
using Shoal.Storage.Registry;

namespace Shoal.BuildIndex.Internal;

/// <summary>An upstream registry could not answer (unreachable, timed out, refused the credentials, answered garbage).</summary>
internal sealed class UpstreamUnavailableException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>
/// Pull-through of tags and manifest records from the registries behind build-index: the
/// namespaces whose backend (<see cref="BuildIndexOptions.Backends"/>) is a registry are answered
/// from it on a local miss. A resolved tag is remembered in memory for
/// <see cref="BuildIndexOptions.UpstreamTagTtl"/> only (upstream tags move; a tag written through
/// build-index's own API is never overridden, since the local store is asked first); a manifest
/// record is immutable per digest and is stored locally. Concurrent misses of the same tag or
/// manifest share one upstream request.
/// </summary>
internal sealed class UpstreamIndex
{
    /// <summary>Resolved tags kept at most; expired entries are dropped when the cache reaches it.</summary>
    private const int MaxCachedTags = 10_000;

    private readonly BackendRouter _router;
    private readonly ITagStore _store;
    private readonly TimeProvider _time;
    private readonly TimeSpan _tagTtl;
    private readonly ILogger<UpstreamIndex> _logger;
    private readonly ConcurrentDictionary<(string Repository, string Reference), (RegistryManifestInfo Info, DateTimeOffset Expires)> _tags = new();
    private readonly ConcurrentDictionary<(string Repository, string Reference), Lazy<Task<RegistryManifestInfo?>>> _inFlight = new();

    public UpstreamIndex(BuildIndexOptions options, IndexBackends backends, ITagStore store, TimeProvider time, ILogger<UpstreamIndex> logger)
    {
        _router = backends.Router;
        _store = store;
        _time = time;
        _tagTtl = options.UpstreamTagTtl;
        _logger = logger;
    }

    /// <summary>The registry behind <paramref name="repository"/>, or null when it has none.</summary>
    public RegistryTagSource? SourceFor(string repository) => (_router.Match(repository) as RegistryBackend)?.Tags;

    /// <summary>
    /// The digest <paramref name="tag"/> of <paramref name="repository"/> points at upstream (cached for
    /// the tag TTL), or null when the repository has no registry behind it or the registry lacks the tag.
    /// The manifest's record is stored locally on the way.
    /// </summary>
    /// <exception cref="UpstreamUnavailableException">The registry could not answer.</exception>
    public async Task<Digest?> GetTagAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        if (SourceFor(repository) is not { } source)
        {
            return null;
        }
        var key = (repository, tag);
        if (_tags.TryGetValue(key, out var cached) && cached.Expires > _time.GetUtcNow())
        {
            return cached.Info.Digest;
        }
        var info = await ResolveAsync(source, repository, tag, cancellationToken);
        if (info is null)
        {
            _tags.TryRemove(key, out _);
            return null;
        }
        if (_tagTtl > TimeSpan.Zero)
        {
            if (_tags.Count >= MaxCachedTags)
            {
                PruneExpired();
            }
            _tags[key] = (info, _time.GetUtcNow() + _tagTtl);
        }
        Log.UpstreamTagResolved(_logger, repository, tag, info.Digest);
        return info.Digest;
    }

    /// <summary>Forgets the cached upstream answer for a tag (it was written or deleted through the API).</summary>
    public void Forget(string repository, string tag) => _tags.TryRemove((repository, tag), out _);

    /// <summary>
    /// The record of manifest <paramref name="digest"/> upstream (stored locally once found), or null
    /// when the repository has no registry behind it or the registry lacks the manifest.
    /// </summary>
    /// <exception cref="UpstreamUnavailableException">The registry could not answer.</exception>
    public async Task<ManifestRecord?> GetManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        if (SourceFor(repository) is not { } source)
        {
            return null;
        }
        var info = await ResolveAsync(source, repository, digest.ToString(), cancellationToken);
        if (info is null)
        {
            return null;
        }
        if (info.Digest != digest)
        {
            throw new UpstreamUnavailableException(
                $"registry {source.Address} answered manifest {info.Digest} for {repository}@{digest}",
                new DigestMismatchException(digest, info.Digest));
        }
        return await _store.GetManifestAsync(repository, digest, cancellationToken) ?? new ManifestRecord(info.MediaType, info.Size);
    }

    /// <summary>
    /// Every tag of <paramref name="repository"/> upstream (sorted ordinally), or null when the
    /// repository has no registry behind it. An unknown repository has no tags.
    /// </summary>
    /// <exception cref="UpstreamUnavailableException">The registry could not answer.</exception>
    public async Task<List<string>?> ListTagsAsync(string repository, CancellationToken cancellationToken)
    {
        if (SourceFor(repository) is not { } source)
        {
            return null;
        }
        try
        {
            var tags = new List<string>();
            await foreach (var tag in source.ListAllTagsAsync(repository, cancellationToken: cancellationToken))
            {
                tags.Add(tag);
            }
            tags.Sort(StringComparer.Ordinal);
            return tags;
        }
        catch (Exception ex) when (IsUpstreamFailure(ex, cancellationToken))
        {
            throw Unavailable(source, $"listing the tags of {repository}", ex);
        }
    }

    /// <summary>HEADs manifest <paramref name="reference"/> once for all concurrent callers and records the manifest locally.</summary>
    private async Task<RegistryManifestInfo?> ResolveAsync(RegistryTagSource source, string repository, string reference, CancellationToken cancellationToken)
    {
        var key = (repository, reference);
        var lazy = _inFlight.GetOrAdd(key, k => new Lazy<Task<RegistryManifestInfo?>>(() => ResolveOnceAsync(source, k)));
        return await lazy.Value.WaitAsync(cancellationToken);
    }

    /// <summary>The shared upstream request: not bound to any one caller's cancellation (the registry client has its own timeout).</summary>
    private async Task<RegistryManifestInfo?> ResolveOnceAsync(RegistryTagSource source, (string Repository, string Reference) key)
    {
        var (repository, reference) = key;
        try
        {
            RegistryManifestInfo? info;
            try
            {
                info = await source.ResolveTagAsync(repository, reference, CancellationToken.None);
            }
            catch (Exception ex) when (IsUpstreamFailure(ex, CancellationToken.None))
            {
                throw Unavailable(source, $"resolving {repository}:{reference}", ex);
            }
            // A local store failure is build-index's own (500), not the registry's.
            if (info is not null && await _store.GetManifestAsync(repository, info.Digest, CancellationToken.None) is null)
            {
                await _store.PutManifestAsync(repository, info.Digest, new ManifestRecord(info.MediaType, info.Size), CancellationToken.None);
            }
            return info;
        }
        finally
        {
            // Only this request removes its entry: the next miss asks the registry again.
            _inFlight.TryRemove(key, out _);
        }
    }

    private UpstreamUnavailableException Unavailable(RegistryTagSource source, string what, Exception ex)
    {
        Log.UpstreamFailed(_logger, source.Address, what, ex.Message);
        return new UpstreamUnavailableException($"{what} at registry {source.Address} failed: {ex.Message}", ex);
    }

    private static bool IsUpstreamFailure(Exception ex, CancellationToken cancellationToken)
        => !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested) && ex is not UpstreamUnavailableException;

    private void PruneExpired()
    {
        var now = _time.GetUtcNow();
        foreach (var entry in _tags)
        {
            if (entry.Value.Expires <= now)
            {
                _tags.TryRemove(entry);
            }
        }
        if (_tags.Count >= MaxCachedTags)
        {
            _tags.Clear(); // Still full of live entries: start over rather than grow without bound.
        }
    }
}
