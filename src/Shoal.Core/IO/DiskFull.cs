namespace Shoal.Core.IO;

/// <summary>Tells a write that failed because the disk (or the user's quota) is full from other I/O errors.</summary>
public static class DiskFull
{
    // .NET puts the errno of a failed call into IOException.HResult on Unix, and the HRESULT of the Win32 error on Windows.
    private const int Enospc = 28;
    private const int Edquot = 122;
    private const int ErrorHandleDiskFull = unchecked((int)0x80070027);
    private const int ErrorDiskFull = unchecked((int)0x80070070);

    /// <summary>
    /// When creating a file of <paramref name="length"/> bytes under <paramref name="directory"/> failed
    /// with <paramref name="failure"/> and the filesystem has less room than that, the failure as a
    /// <see cref="DiskFullException"/> (the runtime reports a failed preallocation without its errno);
    /// else null.
    /// </summary>
    public static DiskFullException? Explain(IOException failure, string directory, long length)
    {
        try
        {
            var free = new DriveInfo(directory).AvailableFreeSpace;
            return free < length ? new DiskFullException($"no room for {length} bytes under {directory} ({free} bytes free)", failure) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="exception"/> (or an I/O exception inside it) reports no space left on the device or a quota exceeded.</summary>
    public static bool Is(Exception? exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is DiskFullException or IOException { HResult: Enospc or Edquot or ErrorHandleDiskFull or ErrorDiskFull })
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>A write failed because the disk or the user's quota is full.</summary>
public sealed class DiskFullException(string message, Exception? inner = null) : IOException(message, inner);
