using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Shoal.Core.IO;

/// <summary>
/// Crash-safe small-file operations: a write goes to a temp file in the same directory, is fsynced,
/// renamed over the target and the directory is fsynced, so a reader (or a restart after a crash)
/// sees the old file or the new one, never a torn one.
/// </summary>
public static partial class DurableFile
{
    /// <summary>Prefix of temp files; callers whose own names never start with a dot can skip them in listings.</summary>
    public const char TempPrefix = '.';

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> so that readers see either the old or the new file.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, TempPrefix + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        SyncDirectory(directory);
    }

    /// <summary>Deletes <paramref name="path"/> durably. False when it did not exist.</summary>
    public static bool Delete(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }
        File.Delete(path);
        SyncDirectory(Path.GetDirectoryName(path)!);
        return true;
    }

    /// <summary>
    /// Creates <paramref name="directory"/> and any missing parents below <paramref name="root"/>,
    /// fsyncing each parent whose entries changed so the new directories survive a crash.
    /// </summary>
    public static void CreateDirectory(string root, string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }
        var missing = new Stack<string>();
        for (var current = directory; current.Length > root.Length && !Directory.Exists(current); current = Path.GetDirectoryName(current)!)
        {
            missing.Push(current);
        }
        foreach (var created in missing)
        {
            Directory.CreateDirectory(created);
            SyncDirectory(Path.GetDirectoryName(created)!);
        }
    }

    /// <summary>Serializes <paramref name="value"/> as JSON and writes it durably.</summary>
    public static void WriteJson<T>(string path, T value, JsonTypeInfo<T> typeInfo)
        => WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));

    /// <summary>Reads a JSON file, returning default when it is missing or unreadable.</summary>
    public static T? ReadJson<T>(string path, JsonTypeInfo<T> typeInfo)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), typeInfo);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return default;
        }
    }

    /// <summary>Flushes a directory's entries (renames, creates) to disk. Best effort off Linux.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var fd = Open(directory, ORdOnly | ODirectory | OCloexec);
        if (fd < 0)
        {
            return;
        }
        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Flushes a file's data and metadata to disk (a no-op cost when nothing is dirty).</summary>
    public static void SyncFile(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Deletes a file, ignoring a file that is already gone.</summary>
    public static void TryDelete(string path)
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

    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000;
    private const int OCloexec = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
