namespace Shoal.Core.Store;

/// <summary>Where a content-addressed store keeps its files.</summary>
public sealed class BlobStoreOptions
{
    /// <summary>The store's root directory. Every file the store writes is under it. Required.</summary>
    public string Root { get; set; } = string.Empty;

    /// <summary>
    /// How stale a blob's recorded last-access time may get before a read rewrites it, so reads
    /// do not cost a metadata write each. Default 1 minute.
    /// </summary>
    public TimeSpan AccessTimeResolution { get; set; } = TimeSpan.FromMinutes(1);
}
