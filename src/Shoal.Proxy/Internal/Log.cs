using Microsoft.Extensions.Logging;
using Shoal.Core;

namespace Shoal.Proxy.Internal;

/// <summary>The proxy's log events.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Committed blob {Digest} ({Size} bytes) to {Repository}")]
    public static partial void BlobCommitted(ILogger logger, string repository, Digest digest, long size);

    [LoggerMessage(2, LogLevel.Information, "Upload to {Repository} refused: the bytes are {Actual}, the client said {Digest}")]
    public static partial void UploadDigestMismatch(ILogger logger, string repository, Digest digest, Digest actual);

    [LoggerMessage(10, LogLevel.Warning, "Mount of {Digest} from {From} into {Repository} failed, the client uploads it instead: {Reason}")]
    public static partial void MountFailed(ILogger logger, string repository, Digest digest, string from, string reason);

    [LoggerMessage(3, LogLevel.Information, "Mounted blob {Digest} from {From} into {Repository}")]
    public static partial void BlobMounted(ILogger logger, string repository, Digest digest, string from);

    [LoggerMessage(4, LogLevel.Information, "Pushed manifest {Digest} ({MediaType}) to {Repository} as {Reference}")]
    public static partial void ManifestPushed(ILogger logger, string repository, string reference, Digest digest, string mediaType);

    [LoggerMessage(5, LogLevel.Error, "Manifest {Digest} of {Repository} from the origins is corrupt: {Reason}")]
    public static partial void ManifestCorrupt(ILogger logger, string repository, Digest digest, string reason);

    [LoggerMessage(6, LogLevel.Warning, "{Method} {Path} failed upstream: {Reason}")]
    public static partial void UpstreamFailed(ILogger logger, string method, string path, string reason, Exception exception);



    [LoggerMessage(9, LogLevel.Information, "Deleted {What} {Reference} of {Repository}")]
    public static partial void Deleted(ILogger logger, string what, string repository, string reference);
}
