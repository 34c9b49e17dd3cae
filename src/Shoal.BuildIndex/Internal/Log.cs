using Microsoft.Extensions.Logging;
using Shoal.Core;

namespace Shoal.BuildIndex.Internal;

/// <summary>Build-index's log events.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Tagged {Repository}:{Tag} as {Digest}")]
    public static partial void TagWritten(ILogger logger, string repository, string tag, Digest digest);

    [LoggerMessage(2, LogLevel.Information, "Deleted tag {Repository}:{Tag}")]
    public static partial void TagDeleted(ILogger logger, string repository, string tag);

    [LoggerMessage(3, LogLevel.Debug, "Recorded manifest {Repository}@{Digest} ({MediaType}, {Size} bytes)")]
    public static partial void ManifestWritten(ILogger logger, string repository, Digest digest, string mediaType, long size);

    [LoggerMessage(4, LogLevel.Information, "Deleted manifest {Repository}@{Digest} and {TagCount} tags pointing at it")]
    public static partial void ManifestDeleted(ILogger logger, string repository, Digest digest, int tagCount);

    [LoggerMessage(5, LogLevel.Debug, "Resolved {Repository}:{Tag} upstream as {Digest}")]
    public static partial void UpstreamTagResolved(ILogger logger, string repository, string tag, Digest digest);

    [LoggerMessage(6, LogLevel.Warning, "Registry {Registry} failed {What}: {Error}")]
    public static partial void UpstreamFailed(ILogger logger, Uri registry, string what, string error);

    [LoggerMessage(7, LogLevel.Warning, "Tag storage backend failed {What}: {Error}")]
    public static partial void TagStorageFailed(ILogger logger, string what, string error);
}
