using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Storage;

namespace Shoal.BuildIndex.Internal;

/// <summary>The storage backend holding a repository's tags could not answer (unreachable, refused, failed).</summary>
internal sealed class TagStorageUnavailableException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>
/// An <see cref="ITagStore"/> on a storage backend (<see cref="BuildIndexOptions.Backends"/>), so
/// that every build-index replica — and, with the distribution layout, a Docker registry — shares
/// the tags. Writes go to the backend before they are acknowledged; a backend failure is a
/// <see cref="TagStorageUnavailableException"/> and nothing is acknowledged. Tags read from the
/// backend are remembered for <see cref="BuildIndexOptions.UpstreamTagTtl"/> (another writer may
/// move them; this replica's own writes update the memory at once). The naming of the records is
/// the subclass's: <see cref="ShoalBackendTagStore"/> or <see cref="DistributionTagStore"/>.
/// </summary>
internal abstract class BackendTagStore : ITagStore
{
    /// <summary>Records and links are tiny; anything bigger is not one.</summary>
    protected const int MaxRecordSize = 64 * 1024;

    /// <summary>Where every repository's records live (both namings).</summary>
    protected const string RepositoriesPrefix = "repositories/";

    private const int ListPageSize = 1000;
    private const int LockStripes = 64;
    private const int MaxCachedTags = 10_000;

    private readonly TimeProvider _time;
    private readonly TimeSpan _tagTtl;
    private readonly SemaphoreSlim[] _locks;
    private readonly ConcurrentDictionary<(string Repository, string Tag), (Digest Digest, DateTimeOffset Expires)> _tags = new();

    protected BackendTagStore(IBlobBackend backend, TimeProvider time, TimeSpan tagTtl, ILogger logger)
    {
        Backend = backend;
        _time = time;
        _tagTtl = tagTtl;
        Logger = logger;
        _locks = new SemaphoreSlim[LockStripes];
        for (var i = 0; i < _locks.Length; i++)
        {
            _locks[i] = new SemaphoreSlim(1, 1);
        }
    }

    /// <summary>The backend the records are stored in.</summary>
    protected IBlobBackend Backend { get; }

    protected ILogger Logger { get; }

    public Task<Digest?> GetTagAsync(string repository, string tag, CancellationToken cancellationToken)
        => GuardAsync($"reading tag {repository}:{tag}", async () =>
        {
            var key = (Check(repository), CheckTag(tag));
            if (_tags.TryGetValue(key, out var cached) && cached.Expires > _time.GetUtcNow())
            {
                return cached.Digest;
            }
            var digest = await ReadTagAsync(repository, tag, cancellationToken);
            if (digest is { } found)
            {
                Remember(key, found);
            }
            else
            {
                _tags.TryRemove(key, out _);
            }
            return digest;
        }, cancellationToken);

    public Task PutTagAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken)
        => GuardAsync($"writing tag {repository}:{tag}", async () =>
        {
            var key = (Check(repository), CheckTag(tag));
            using (await LockAsync(repository, cancellationToken))
            {
                _tags.TryRemove(key, out _);
                await WriteTagAsync(repository, tag, digest, cancellationToken);
                Remember(key, digest);
            }
            Log.TagWritten(Logger, repository, tag, digest);
            return true;
        }, cancellationToken);

    public Task<bool> DeleteTagAsync(string repository, string tag, CancellationToken cancellationToken)
        => GuardAsync($"deleting tag {repository}:{tag}", async () =>
        {
            var key = (Check(repository), CheckTag(tag));
            bool deleted;
            using (await LockAsync(repository, cancellationToken))
            {
                _tags.TryRemove(key, out _);
                deleted = await RemoveTagAsync(repository, tag, cancellationToken);
            }
            if (deleted)
            {
                Log.TagDeleted(Logger, repository, tag);
            }
            return deleted;
        }, cancellationToken);

    public Task<ListPage?> ListTagsAsync(string repository, string? last, int? limit, CancellationToken cancellationToken)
        => GuardAsync($"listing the tags of {repository}", async () =>
        {
            var tags = await ListTagNamesAsync(Check(repository), cancellationToken);
            if (tags.Count == 0 && !await HasManifestsAsync(repository, cancellationToken))
            {
                return null;
            }
            tags.Sort(StringComparer.Ordinal);
            return (ListPage?)FileTagStore.Page(tags, last, limit);
        }, cancellationToken);

    public Task<ManifestRecord?> GetManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => GuardAsync($"reading manifest {repository}@{digest}", () => ReadManifestAsync(Check(repository), digest, cancellationToken), cancellationToken);

    public Task PutManifestAsync(string repository, Digest digest, ManifestRecord record, CancellationToken cancellationToken)
        => GuardAsync($"recording manifest {repository}@{digest}", async () =>
        {
            using (await LockAsync(Check(repository), cancellationToken))
            {
                await WriteManifestAsync(repository, digest, record, cancellationToken);
            }
            Log.ManifestWritten(Logger, repository, digest, record.MediaType, record.Size);
            return true;
        }, cancellationToken);

    public Task<bool> DeleteManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => GuardAsync($"deleting manifest {repository}@{digest}", async () =>
        {
            var removedTags = 0;
            bool removedManifest;
            using (await LockAsync(Check(repository), cancellationToken))
            {
                removedManifest = await RemoveManifestAsync(repository, digest, cancellationToken);
                foreach (var tag in await ListTagNamesAsync(repository, cancellationToken))
                {
                    if (await ReadTagAsync(repository, tag, cancellationToken) == digest && await RemoveTagAsync(repository, tag, cancellationToken))
                    {
                        removedTags++;
                    }
                    _tags.TryRemove((repository, tag), out _);
                }
            }
            if (removedManifest || removedTags > 0)
            {
                Log.ManifestDeleted(Logger, repository, digest, removedTags);
            }
            return removedManifest || removedTags > 0;
        }, cancellationToken);

    public Task<bool> HasBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => GuardAsync($"reading blob link {repository}@{digest}", () => HasBlobLinkCoreAsync(Check(repository), digest, cancellationToken), cancellationToken);

    public Task PutBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => GuardAsync($"linking blob {repository}@{digest}", async () =>
        {
            await WriteAsync(BlobLinkName(Check(repository), digest), LinkContent(digest), cancellationToken);
            return true;
        }, cancellationToken);

    public Task<bool> DeleteBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => GuardAsync($"unlinking blob {repository}@{digest}", () => Backend.DeleteAsync(BlobLinkName(Check(repository), digest), cancellationToken), cancellationToken);

    public Task<ListPage> ListRepositoriesAsync(string? last, int? limit, CancellationToken cancellationToken)
        => GuardAsync("listing repositories", async () =>
        {
            var names = await ListRepositoryNamesAsync(cancellationToken);
            return FileTagStore.Page(names, last, limit);
        }, cancellationToken);

    /// <summary>Every repository with a tag or a manifest in the backend, sorted ordinally.</summary>
    public async Task<List<string>> ListRepositoryNamesAsync(CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var name in ListAsync(RepositoriesPrefix, cancellationToken))
        {
            if (RepositoryOf(name) is { } repository && RepositoryName.IsValid(repository, out _))
            {
                names.Add(repository);
            }
        }
        var sorted = names.ToList();
        sorted.Sort(StringComparer.Ordinal);
        return sorted;
    }

    /// <summary>Backends are not probed (that would write objects): readiness is the local store's.</summary>
    public Task<string?> CheckWritableAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    protected abstract Task<Digest?> ReadTagAsync(string repository, string tag, CancellationToken cancellationToken);

    protected abstract Task WriteTagAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken);

    protected abstract Task<bool> RemoveTagAsync(string repository, string tag, CancellationToken cancellationToken);

    /// <summary>The repository's tags (unsorted).</summary>
    protected abstract Task<List<string>> ListTagNamesAsync(string repository, CancellationToken cancellationToken);

    protected abstract Task<bool> HasManifestsAsync(string repository, CancellationToken cancellationToken);

    protected abstract Task<ManifestRecord?> ReadManifestAsync(string repository, Digest digest, CancellationToken cancellationToken);

    protected abstract Task WriteManifestAsync(string repository, Digest digest, ManifestRecord record, CancellationToken cancellationToken);

    protected abstract Task<bool> RemoveManifestAsync(string repository, Digest digest, CancellationToken cancellationToken);

    protected abstract Task<bool> HasBlobLinkCoreAsync(string repository, Digest digest, CancellationToken cancellationToken);

    protected abstract string BlobLinkName(string repository, Digest digest);

    /// <summary>What a blob link holds.</summary>
    protected abstract byte[] LinkContent(Digest digest);

    /// <summary>The repository a stored record (a name under <c>repositories/</c>) belongs to, or null when it is none of the naming's records.</summary>
    protected abstract string? RepositoryOf(string name);

    /// <summary><c>repositories/&lt;name&gt;/</c>.</summary>
    protected static string RepositoryPrefix(string repository) => RepositoriesPrefix + repository + "/";

    /// <summary><c>sha256/&lt;hex&gt;</c>.</summary>
    protected static string DigestPath(Digest digest)
        => digest.IsEmpty ? throw new ArgumentException("empty digest", nameof(digest)) : digest.Algorithm + "/" + digest.Hex;

    /// <summary>The whole object, or null when it does not exist.</summary>
    /// <exception cref="InvalidDataException">It is larger than <paramref name="maxSize"/>.</exception>
    protected async Task<byte[]?> ReadAsync(string name, int maxSize, CancellationToken cancellationToken)
    {
        await using var stream = await Backend.OpenReadAsync(name, 0, null, cancellationToken);
        if (stream is null)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[Math.Min(maxSize + 1, 81920)];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxSize)
            {
                throw new InvalidDataException($"stored object {name} is larger than {maxSize} bytes");
            }
        }
        return buffer.ToArray();
    }

    /// <summary>A link (<c>sha256:&lt;hex&gt;</c>), or null when it does not exist.</summary>
    /// <exception cref="InvalidDataException">It holds no valid digest.</exception>
    protected async Task<Digest?> ReadLinkAsync(string name, CancellationToken cancellationToken)
    {
        var bytes = await ReadAsync(name, MaxRecordSize, cancellationToken);
        if (bytes is null)
        {
            return null;
        }
        var text = System.Text.Encoding.UTF8.GetString(bytes).Trim();
        return Digest.TryParse(text, out var digest, out var error)
            ? digest
            : throw new InvalidDataException($"link {name} holds no valid digest: {error}");
    }

    protected Task WriteAsync(string name, byte[] bytes, CancellationToken cancellationToken)
        => Backend.UploadAsync(name, new MemoryStream(bytes, writable: false), bytes.Length, cancellationToken);

    protected async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken)
        => await Backend.StatAsync(name, cancellationToken) is not null;

    /// <summary>Every object name under <paramref name="prefix"/>, in order, page by page.</summary>
    protected async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = null;
        do
        {
            var page = await Backend.ListAsync(prefix, token, ListPageSize, cancellationToken);
            foreach (var item in page.Objects)
            {
                yield return item.Name;
            }
            token = page.ContinuationToken;
        }
        while (token is not null);
    }

    private void Remember((string Repository, string Tag) key, Digest digest)
    {
        if (_tagTtl <= TimeSpan.Zero)
        {
            return;
        }
        if (_tags.Count >= MaxCachedTags)
        {
            _tags.Clear();
        }
        _tags[key] = (digest, _time.GetUtcNow() + _tagTtl);
    }

    private static string Check(string repository)
        => RepositoryName.IsValid(repository, out var error) ? repository : throw new ArgumentException(error, nameof(repository));

    private static string CheckTag(string tag)
        => RepositoryName.IsValidTag(tag) ? tag : throw new ArgumentException($"invalid tag '{tag}'", nameof(tag));

    /// <summary>Runs a backend operation, turning a failure of the backend into <see cref="TagStorageUnavailableException"/>.</summary>
    private async Task<T> GuardAsync<T>(string what, Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            return await operation();
        }
        catch (Exception ex) when (ex is not (ArgumentException or InvalidDataException or TagStorageUnavailableException)
                                   && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Log.TagStorageFailed(Logger, what, ex.Message);
            throw new TagStorageUnavailableException($"{what} in the storage backend failed: {ex.Message}", ex);
        }
    }

    private async Task<Releaser> LockAsync(string repository, CancellationToken cancellationToken)
    {
        var gate = _locks[(uint)StringComparer.Ordinal.GetHashCode(repository) % LockStripes];
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    private readonly struct Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
