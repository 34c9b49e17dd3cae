using Microsoft.Extensions.Logging;
using Shoal.Core;

namespace Shoal.Origin.Internal;

/// <summary>The origin's log events.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Fetched {Digest} ({Size} bytes) from {Source}")]
    public static partial void Fetched(ILogger logger, Digest digest, long size, string source);

    [LoggerMessage(2, LogLevel.Debug, "{Digest} is not in the backend")]
    public static partial void FetchNotFound(ILogger logger, Digest digest);

    [LoggerMessage(3, LogLevel.Error, "Backend object for {Digest} is corrupt and was refused: {Reason}")]
    public static partial void FetchCorrupt(ILogger logger, Digest digest, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Fetching {Digest} from the backend failed")]
    public static partial void FetchFailed(ILogger logger, Digest digest, Exception exception);

    [LoggerMessage(5, LogLevel.Debug, "Wrote {Digest} ({Size} bytes) back to the backend")]
    public static partial void WrittenBack(ILogger logger, Digest digest, long size);

    [LoggerMessage(6, LogLevel.Warning, "{Kind} task for {Digest} to {Target} failed (attempt {Attempts}); retrying in {Delay}")]
    public static partial void TaskFailed(ILogger logger, string kind, string digest, string target, int attempts, TimeSpan delay, Exception exception);

    [LoggerMessage(7, LogLevel.Debug, "Replicated {Digest} to {Origin}")]
    public static partial void Replicated(ILogger logger, Digest digest, string origin);

    [LoggerMessage(8, LogLevel.Warning, "{Digest} is no longer cached; its queued task is dropped")]
    public static partial void WriteBackBlobGone(ILogger logger, Digest digest);

    [LoggerMessage(9, LogLevel.Information, "Committed {Digest} ({Size} bytes, new: {Created})")]
    public static partial void Committed(ILogger logger, Digest digest, long size, bool created);

    [LoggerMessage(10, LogLevel.Warning, "Writing {Digest} through to the backend failed; the upload is refused (the write-back stays queued)")]
    public static partial void WriteThroughFailed(ILogger logger, Digest digest, Exception exception);


    [LoggerMessage(12, LogLevel.Warning, "Upload of {Digest} refused: {Reason}")]
    public static partial void UploadRefused(ILogger logger, Digest digest, string reason);

    [LoggerMessage(13, LogLevel.Error, "The write-back queue failed")]
    public static partial void QueueFailed(ILogger logger, Exception exception);

    [LoggerMessage(14, LogLevel.Information, "{Origin} left the cluster; the copy of {Digest} for it is dropped")]
    public static partial void ReplicaGone(ILogger logger, Digest digest, string origin);

    [LoggerMessage(15, LogLevel.Warning, "Resolving the cluster name {Name} failed")]
    public static partial void DnsFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(16, LogLevel.Warning, "Origin {Origin} is now {State}")]
    private static partial void HealthChangedCore(ILogger logger, string origin, string state);

    public static void HealthChanged(ILogger logger, string origin, bool healthy) => HealthChangedCore(logger, origin, healthy ? "healthy" : "unhealthy");

    [LoggerMessage(17, LogLevel.Debug, "Fetching {Digest} from peer {Origin} failed: {Reason}")]
    public static partial void PeerFetchFailed(ILogger logger, Digest digest, string origin, string reason);
}
