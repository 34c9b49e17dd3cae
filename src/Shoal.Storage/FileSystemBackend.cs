using System.Buffers;
using Shoal.Core.Blobs;
using Shoal.Core.IO;
using Shoal.Storage.Internal;

namespace Shoal.Storage;

/// <summary>
/// A backend on a local or mounted filesystem: object <c>a/b/c</c> is the file <c>&lt;root&gt;/a/b/c</c>.
/// </summary>
/// <remarks>
/// Uploads are written to <c>&lt;root&gt;/~tmp/</c>, fsynced and renamed into place, so an object
/// appears whole or not at all, also to other processes sharing the directory. <c>~</c> cannot
/// occur in an object name, so the temp directory never collides with an object and listings skip
/// it. Paths are only ever derived from <see cref="BackendNames.IsValid">validated</see> names.
/// </remarks>
public sealed class FileSystemBackend : IBlobBackend
{
    /// <summary>The directory in-progress uploads are written to, under the root.</summary>
    public const string TempDirectoryName = "~tmp";

    /// <summary>Temp files older than this are leftovers of a crashed process and are removed at start.</summary>
    private static readonly TimeSpan StaleTempAge = TimeSpan.FromDays(1);

    private readonly string _tempRoot;

    /// <summary>Uses (and creates when missing) the directory <paramref name="root"/>.</summary>
    public FileSystemBackend(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
        {
            throw new ArgumentException("backend root is required", nameof(root));
        }
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _tempRoot = Path.Combine(Root, TempDirectoryName);
        Directory.CreateDirectory(_tempRoot);
        RemoveStaleTempFiles();
    }

    /// <summary>The absolute root directory.</summary>
    public string Root { get; }

    /// <inheritdoc />
    public Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken)
    {
        var file = new FileInfo(PathOf(name));
        return Task.FromResult(file.Exists ? new BackendObject(name, file.Length, file.LastWriteTimeUtc) : null);
    }

    /// <inheritdoc />
    public Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        }
        FileStream stream;
        try
        {
            stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0,
            });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException
            || (ex is UnauthorizedAccessException && Directory.Exists(path)))
        {
            return Task.FromResult<Stream?>(null);
        }
        if (offset > stream.Length)
        {
            var size = stream.Length;
            stream.Dispose();
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offset is past the end of '{name}' ({size} bytes)");
        }
        stream.Position = offset;
        Stream result = length is { } limit ? new LimitedReadStream(stream, limit) : stream;
        return Task.FromResult<Stream?>(result);
    }

    /// <inheritdoc />
    public async Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var temp = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));
        var buffer = ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
        try
        {
            await using (var file = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
                PreallocationSize = length,
            }))
            {
                var remaining = length;
                while (remaining > 0)
                {
                    var read = await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(StreamBuffers.CopyBufferSize, remaining)), cancellationToken);
                    if (read == 0)
                    {
                        throw new InvalidDataException($"content of '{name}' ended after {length - remaining} of {length} bytes");
                    }
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    remaining -= read;
                }
                if (await content.ReadAsync(buffer.AsMemory(0, 1), cancellationToken) != 0)
                {
                    throw new InvalidDataException($"content of '{name}' is longer than {length} bytes");
                }
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            cancellationToken.ThrowIfCancellationRequested();
            var directory = Path.GetDirectoryName(path)!;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    Directory.CreateDirectory(directory);
                    // The rename is the moment of visibility; the bytes are already on disk.
                    File.Move(temp, path, overwrite: true);
                    break;
                }
                catch (IOException) when (attempt < 10 && File.Exists(temp))
                {
                    // A delete of the directory's last object pruned it meanwhile: between the two
                    // calls (the move finds no directory), or inside CreateDirectory itself (mkdir
                    // found it, the check that it is a directory no longer does: "already exists").
                    // Again; anything that lasts fails the tenth attempt.
                }
            }
            DurableFile.SyncDirectory(directory);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    public Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
    {
        if (!BackendNames.IsValidPrefix(prefix, out var error))
        {
            throw new ArgumentException(error, nameof(prefix));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        // Walk only the deepest directory the prefix names completely; filter the rest by string.
        var directoryPart = prefix[..(prefix.LastIndexOf('/') + 1)];
        var start = directoryPart.Length == 0 ? Root : Path.Combine(Root, directoryPart.TrimEnd('/').Replace('/', Path.DirectorySeparatorChar));
        var objects = new List<BackendObject>(Math.Min(limit, 1024));
        var more = false;
        foreach (var entry in Walk(start, directoryPart, prefix, continuationToken, cancellationToken))
        {
            if (objects.Count == limit)
            {
                more = true;
                break;
            }
            objects.Add(entry);
        }
        return Task.FromResult(new BackendListPage(objects, more ? objects[^1].Name : null));
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }
        File.Delete(path);
        DurableFile.SyncDirectory(Path.GetDirectoryName(path)!);
        PruneEmptyDirectories(Path.GetDirectoryName(path)!);
        return Task.FromResult(true);
    }

    /// <summary>
    /// Removes <paramref name="directory"/> and its parents up to the root while they are empty: an
    /// object store has no directories, and a registry sharing this storage reads an empty directory
    /// as an entry (a deleted tag's directory would still be listed as a tag).
    /// </summary>
    private void PruneEmptyDirectories(string directory)
    {
        while (directory.Length > Root.Length && directory.StartsWith(Root, StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(directory, recursive: false);
            }
            catch (IOException)
            {
                return; // not empty (or already gone): its parents are not empty either
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
            directory = Path.GetDirectoryName(directory)!;
        }
    }

    /// <summary>
    /// Yields the objects under <paramref name="directory"/> in ordinal name order. Sorting each
    /// directory's entries by name, with a directory's key ending in '/', gives the global order of
    /// full names, so the walk streams and skips whole subtrees before the token or outside the prefix.
    /// </summary>
    private static IEnumerable<BackendObject> Walk(string directory, string relative, string prefix, string? after, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        FileSystemInfo[] infos;
        try
        {
            infos = new DirectoryInfo(directory).GetFileSystemInfos();
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }
        var entries = new List<(string Key, FileSystemInfo Info)>(infos.Length);
        foreach (var info in infos)
        {
            if (!IsSegment(info.Name))
            {
                continue; // the temp directory and anything else no valid name could have produced
            }
            var isDirectory = info is DirectoryInfo;
            if (isDirectory && info.LinkTarget is not null)
            {
                continue; // never follow links out of the root
            }
            entries.Add((relative + info.Name + (isDirectory ? "/" : ""), info));
        }
        entries.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var (key, info) in entries)
        {
            if (info is DirectoryInfo)
            {
                var inPrefix = key.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(key, StringComparison.Ordinal);
                var allBeforeToken = after is not null && string.CompareOrdinal(after, key) > 0 && !after.StartsWith(key, StringComparison.Ordinal);
                if (!inPrefix || allBeforeToken)
                {
                    continue;
                }
                foreach (var nested in Walk(info.FullName, key, prefix, after, cancellationToken))
                {
                    yield return nested;
                }
            }
            else if (info is FileInfo file
                && key.StartsWith(prefix, StringComparison.Ordinal)
                && (after is null || string.CompareOrdinal(key, after) > 0)
                && key.Length <= BackendNames.MaxLength)
            {
                yield return new BackendObject(key, file.Length, file.LastWriteTimeUtc);
            }
        }
    }

    private static bool IsSegment(string name)
        => name.Length is > 0 and <= BackendNames.MaxSegmentLength && name is not ("." or "..") && name.All(BackendNames.IsNameChar);

    private string PathOf(string name)
    {
        BackendNames.Validate(name);
        var path = Path.Combine(Root, name.Replace('/', Path.DirectorySeparatorChar));
        // Validation already rules this out; checked again because the cost of being wrong is a write anywhere.
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"object name '{name}' resolves outside the backend root", nameof(name));
        }
        return path;
    }

    private void RemoveStaleTempFiles()
    {
        var cutoff = DateTime.UtcNow - StaleTempAge;
        foreach (var file in new DirectoryInfo(_tempRoot).EnumerateFiles())
        {
            // Other processes may share this root; only files nobody could still be writing go.
            if (file.LastWriteTimeUtc < cutoff)
            {
                TryDelete(file.FullName);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
