using System.Runtime.InteropServices;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// Crash-safe small-file operations: a write goes to a temp file in the same directory, is fsynced,
/// renamed over the target and the directory is fsynced, so a reader (or a restart after a crash)
/// sees the old record or the new one, never a torn one.
/// </summary>
internal static partial class DurableFile
{
    /// <summary>Prefix of temp files; record names never start with a dot, so listings skip them.</summary>
    public const char TempPrefix = '.';

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="bytes"/>; its directory must exist.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, TempPrefix + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1))
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
    /// Creates <paramref name="directory"/> and any missing parents up to <paramref name="root"/>,
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

    /// <summary>Flushes a directory's entries (renames, creates, deletes) to disk. Best effort off Linux.</summary>
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
