using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Core.IO;
using Shoal.Core.Registry;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// The on-disk <see cref="ITagStore"/>. Layout under the data directory:
/// <code>
/// repositories/&lt;name&gt;/_tags/&lt;tag&gt;                      {"digest":"sha256:…"}
/// repositories/&lt;name&gt;/_manifests/sha256/&lt;hex&gt;          {"mediaType":"…","size":…}
/// repositories/&lt;name&gt;/_blobs/sha256/&lt;hex&gt;              (empty: the link itself)
/// </code>
/// A valid repository name is lowercase components joined by '/', none starting with '.' or '_',
/// so it maps onto nested directories that can neither leave the root nor collide with the
/// metadata directories; tags and digests never contain a separator nor start with a dot, and temp
/// files always do, so listings skip them. Writes are atomic (temp file, fsync, rename, directory
/// fsync); mutations of one repository are serialized so that deleting a manifest and the tags
/// that point at it cannot interleave with a tag write in this process. Directories are never
/// removed (a concurrent write may be about to rename into one); a repository is listed in the
/// catalog while it has a tag or a manifest.
/// </summary>
internal sealed class FileTagStore : ITagStore
{
    private const string RepositoriesDirectory = "repositories";
    private const string TagsDirectory = "_tags";
    private const string ManifestsDirectory = "_manifests";
    private const string BlobsDirectory = "_blobs";

    /// <summary>Repositories hash onto this many locks: enough that unrelated pushes rarely wait on each other.</summary>
    private const int LockStripes = 64;

    private static readonly EnumerationOptions Entries = new()
    {
        AttributesToSkip = FileAttributes.Hidden | FileAttributes.System | FileAttributes.ReparsePoint,
        IgnoreInaccessible = true,
        RecurseSubdirectories = false,
    };

    private readonly string _dataDir;
    private readonly string _root;
    private readonly SemaphoreSlim[] _locks;
    private readonly ILogger<FileTagStore> _logger;

    public FileTagStore(string dataDir, ILogger<FileTagStore> logger)
    {
        _dataDir = Path.GetFullPath(dataDir);
        _root = Path.Combine(_dataDir, RepositoriesDirectory);
        Directory.CreateDirectory(_root);
        _locks = new SemaphoreSlim[LockStripes];
        for (var i = 0; i < _locks.Length; i++)
        {
            _locks[i] = new SemaphoreSlim(1, 1);
        }
        _logger = logger;
    }

    public Task<Digest?> GetTagAsync(string repository, string tag, CancellationToken cancellationToken)
        => Task.FromResult(ReadTag(TagPath(repository, tag)));

    public async Task PutTagAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken)
    {
        var path = TagPath(repository, tag);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new TagRecord(digest.ToString()), RecordJsonContext.Default.TagRecord);
        using (await LockAsync(repository, cancellationToken))
        {
            Write(path, bytes);
        }
        Log.TagWritten(_logger, repository, tag, digest);
    }

    public async Task<bool> DeleteTagAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        var path = TagPath(repository, tag);
        bool deleted;
        using (await LockAsync(repository, cancellationToken))
        {
            deleted = DurableFile.Delete(path);
        }
        if (deleted)
        {
            Log.TagDeleted(_logger, repository, tag);
        }
        return deleted;
    }

    public Task<ListPage?> ListTagsAsync(string repository, string? last, int? limit, CancellationToken cancellationToken)
    {
        var directory = RepositoryDirectory(repository);
        var tags = ListRecords(Path.Combine(directory, TagsDirectory), RepositoryName.IsValidTag);
        if (tags.Count == 0 && !HasRecords(Path.Combine(directory, ManifestsDirectory, Digest.Sha256)))
        {
            return Task.FromResult<ListPage?>(null);
        }
        return Task.FromResult<ListPage?>(Page(tags, last, limit));
    }

    public Task<ManifestRecord?> GetManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var path = DigestPath(repository, ManifestsDirectory, digest);
        var bytes = ReadIfExists(path);
        return Task.FromResult(bytes is null ? null : Deserialize(bytes, RecordJsonContext.Default.ManifestRecord, path));
    }

    public async Task PutManifestAsync(string repository, Digest digest, ManifestRecord record, CancellationToken cancellationToken)
    {
        var path = DigestPath(repository, ManifestsDirectory, digest);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(record, RecordJsonContext.Default.ManifestRecord);
        using (await LockAsync(repository, cancellationToken))
        {
            Write(path, bytes);
        }
        Log.ManifestWritten(_logger, repository, digest, record.MediaType, record.Size);
    }

    public async Task<bool> DeleteManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var tagsDirectory = Path.Combine(RepositoryDirectory(repository), TagsDirectory);
        var removedTags = 0;
        bool removedManifest;
        using (await LockAsync(repository, cancellationToken))
        {
            removedManifest = DurableFile.Delete(DigestPath(repository, ManifestsDirectory, digest));
            foreach (var tag in ListRecords(tagsDirectory, RepositoryName.IsValidTag))
            {
                var path = Path.Combine(tagsDirectory, tag);
                if (ReadTag(path) == digest && DurableFile.Delete(path))
                {
                    removedTags++;
                }
            }
        }
        if (removedManifest || removedTags > 0)
        {
            Log.ManifestDeleted(_logger, repository, digest, removedTags);
        }
        return removedManifest || removedTags > 0;
    }

    public Task<bool> HasBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => Task.FromResult(File.Exists(DigestPath(repository, BlobsDirectory, digest)));

    public async Task PutBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var path = DigestPath(repository, BlobsDirectory, digest);
        using (await LockAsync(repository, cancellationToken))
        {
            Write(path, []);
        }
    }

    public async Task<bool> DeleteBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var path = DigestPath(repository, BlobsDirectory, digest);
        using (await LockAsync(repository, cancellationToken))
        {
            return DurableFile.Delete(path);
        }
    }

    public Task<ListPage> ListRepositoriesAsync(string? last, int? limit, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        CollectRepositories(_root, prefix: "", names, cancellationToken);
        names.Sort(StringComparer.Ordinal);
        return Task.FromResult(Page(names, last, limit));
    }

    public Task<string?> CheckWritableAsync(CancellationToken cancellationToken)
    {
        var probe = Path.Combine(_dataDir, DurableFile.TempPrefix + "readiness-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.DeleteOnClose))
            {
                stream.WriteByte(0);
                stream.Flush();
            }
            return Task.FromResult<string?>(null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult<string?>($"data directory {_dataDir} is not writable: {ex.Message}");
        }
    }

    /// <summary>One page of <paramref name="sorted"/>: the items after <paramref name="last"/>, at most <paramref name="limit"/>.</summary>
    internal static ListPage Page(List<string> sorted, string? last, int? limit)
    {
        var start = 0;
        if (!string.IsNullOrEmpty(last))
        {
            start = sorted.BinarySearch(last, StringComparer.Ordinal);
            start = start >= 0 ? start + 1 : ~start;
        }
        var remaining = sorted.Count - start;
        var take = limit is { } n ? Math.Min(n, remaining) : remaining;
        return new ListPage(sorted.GetRange(start, take), take < remaining);
    }

    private static void CollectRepositories(string directory, string prefix, List<string> names, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var child in Directory.EnumerateDirectories(directory, "*", Entries))
        {
            var component = Path.GetFileName(child);
            if (component.StartsWith('_') || component.StartsWith(DurableFile.TempPrefix))
            {
                continue;
            }
            var name = prefix.Length == 0 ? component : prefix + "/" + component;
            if (!RepositoryName.IsValid(name, out _))
            {
                continue;
            }
            if (HasRecords(Path.Combine(child, TagsDirectory)) || HasRecords(Path.Combine(child, ManifestsDirectory, Digest.Sha256)))
            {
                names.Add(name);
            }
            CollectRepositories(child, name, names, cancellationToken);
        }
    }

    private static List<string> ListRecords(string directory, Func<string, bool> isValid)
    {
        var names = new List<string>();
        if (!Directory.Exists(directory))
        {
            return names;
        }
        foreach (var file in Directory.EnumerateFiles(directory, "*", Entries))
        {
            var name = Path.GetFileName(file);
            if (!name.StartsWith(DurableFile.TempPrefix) && isValid(name))
            {
                names.Add(name);
            }
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    private static bool HasRecords(string directory)
        => Directory.Exists(directory)
           && Directory.EnumerateFiles(directory, "*", Entries).Any(f => !Path.GetFileName(f.AsSpan()).StartsWith(DurableFile.TempPrefix));

    private void Write(string path, ReadOnlySpan<byte> bytes)
    {
        DurableFile.CreateDirectory(_root, Path.GetDirectoryName(path)!);
        DurableFile.WriteAllBytes(path, bytes);
    }

    private static Digest? ReadTag(string path)
    {
        var bytes = ReadIfExists(path);
        if (bytes is null)
        {
            return null;
        }
        var record = Deserialize(bytes, RecordJsonContext.Default.TagRecord, path);
        return Digest.TryParse(record.Digest, out var digest, out var error)
            ? digest
            : throw new InvalidDataException($"tag record {path} holds an invalid digest: {error}");
    }

    private static byte[]? ReadIfExists(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static T Deserialize<T>(byte[] bytes, JsonTypeInfo<T> typeInfo, string path)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, typeInfo) ?? throw new InvalidDataException($"record {path} is empty");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"record {path} is corrupt: {ex.Message}", ex);
        }
    }

    private string TagPath(string repository, string tag)
    {
        if (!RepositoryName.IsValidTag(tag))
        {
            throw new ArgumentException($"invalid tag '{tag}'", nameof(tag));
        }
        return Path.Combine(RepositoryDirectory(repository), TagsDirectory, tag);
    }

    private string DigestPath(string repository, string kind, Digest digest)
    {
        if (digest.IsEmpty)
        {
            throw new ArgumentException("empty digest", nameof(digest));
        }
        return Path.Combine(RepositoryDirectory(repository), kind, digest.Algorithm, digest.Hex);
    }

    private string RepositoryDirectory(string repository)
    {
        if (!RepositoryName.IsValid(repository, out var error))
        {
            throw new ArgumentException(error, nameof(repository));
        }
        var path = Path.Combine(_root, repository.Replace('/', Path.DirectorySeparatorChar));
        // Unreachable for a valid name; kept so that a future change to name validation cannot turn into a path escape.
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"repository '{repository}' maps outside the data directory", nameof(repository));
        }
        return path;
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
