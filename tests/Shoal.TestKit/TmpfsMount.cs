namespace Shoal.TestKit;

/// <summary>
/// A small real filesystem (tmpfs of a given size) mounted on a fresh directory, for tests of what
/// happens when a disk fills up. Needs root (<see cref="ToolCheck.Root"/>); unmounted on dispose.
/// </summary>
public sealed class TmpfsMount : IAsyncDisposable
{
    private readonly TempDirectory _dir;

    private TmpfsMount(TempDirectory dir, string path)
    {
        _dir = dir;
        Path = path;
    }

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="megabytes"/> MiB.</summary>
    public static async Task<TmpfsMount> CreateAsync(int megabytes)
    {
        var dir = new TempDirectory("shoal-tmpfs");
        var path = dir.CreateSubdirectory("mnt");
        try
        {
            (await ExternalProcess.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path], TimeSpan.FromSeconds(10))).EnsureSuccess();
        }
        catch
        {
            dir.Dispose();
            throw;
        }
        return new TmpfsMount(dir, path);
    }

    /// <summary>Bytes in use on the filesystem (what <c>df</c> shows).</summary>
    public long UsedBytes
    {
        get
        {
            var drive = new DriveInfo(Path);
            return drive.TotalSize - drive.AvailableFreeSpace;
        }
    }

    /// <summary>The filesystem's size in bytes.</summary>
    public long TotalBytes => new DriveInfo(Path).TotalSize;

    public async ValueTask DisposeAsync()
    {
        await ExternalProcess.RunAsync("umount", ["-l", Path], TimeSpan.FromSeconds(10));
        _dir.Dispose();
    }
}
