namespace Shoal.Origin.Internal;

/// <summary>How a fetch from the backend ended.</summary>
internal enum FetchStatus
{
    /// <summary>The blob is in the cache now (or already was).</summary>
    Stored,

    /// <summary>The backend has no such object.</summary>
    NotFound,

    /// <summary>The backend's bytes do not match the digest; nothing was stored.</summary>
    Corrupt,

    /// <summary>The backend could not be read.</summary>
    Failed,
}

/// <summary>The outcome of <see cref="BackendFetcher.FetchAsync"/>.</summary>
internal sealed record FetchResult(FetchStatus Status, string? Detail = null)
{
    public static readonly FetchResult Stored = new(FetchStatus.Stored);

    public static readonly FetchResult NotFound = new(FetchStatus.NotFound);
}
