using Microsoft.Extensions.Logging;
using Shoal.Core;

namespace Shoal.Origin.Internal;

/// <summary>The origin's log events.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Fetched {Digest} ({Size} bytes) from the backend")]
    public static partial void Fetched(ILogger logger, Digest digest, long size);

    [LoggerMessage(2, LogLevel.Debug, "{Digest} is not in the backend")]
    public static partial void FetchNotFound(ILogger logger, Digest digest);

    [LoggerMessage(3, LogLevel.Error, "Backend object for {Digest} is corrupt and was refused: {Reason}")]
    public static partial void FetchCorrupt(ILogger logger, Digest digest, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Fetching {Digest} from the backend failed")]
    public static partial void FetchFailed(ILogger logger, Digest digest, Exception exception);

    [LoggerMessage(5, LogLevel.Debug, "Wrote {Digest} ({Size} bytes) through to the backend")]
    public static partial void WrittenThrough(ILogger logger, Digest digest, long size);

    [LoggerMessage(6, LogLevel.Warning, "Writing {Digest} to the backend failed")]
    public static partial void WriteBackFailed(ILogger logger, Digest digest, Exception exception);

    [LoggerMessage(7, LogLevel.Debug, "Replicated {Digest} to {Origin}")]
    public static partial void Replicated(ILogger logger, Digest digest, Uri origin);

    [LoggerMessage(8, LogLevel.Warning, "Replicating {Digest} to {Origin} failed")]
    public static partial void ReplicationFailed(ILogger logger, Digest digest, Uri origin, Exception exception);

    [LoggerMessage(9, LogLevel.Information, "Committed {Digest} ({Size} bytes, new: {Created})")]
    public static partial void Committed(ILogger logger, Digest digest, long size, bool created);

    [LoggerMessage(10, LogLevel.Information, "Purged {Count} expired upload sessions")]
    public static partial void UploadsPurged(ILogger logger, int count);

    [LoggerMessage(11, LogLevel.Warning, "Purging expired upload sessions failed")]
    public static partial void PurgeFailed(ILogger logger, Exception exception);

    [LoggerMessage(12, LogLevel.Warning, "Upload of {Digest} refused: {Reason}")]
    public static partial void UploadRefused(ILogger logger, Digest digest, string reason);
}
