using System.Text.Json.Serialization;

namespace Shoal.Core.Store;

/// <summary>What a store records about each blob besides its bytes.</summary>
public sealed record BlobMetadata
{
    /// <summary>The blob's length in bytes.</summary>
    [JsonPropertyName("size")]
    public long Size { get; init; }

    /// <summary>When the blob became visible in this store.</summary>
    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the blob was last read (to the store's access-time resolution).</summary>
    [JsonPropertyName("lastAccessAt")]
    public DateTimeOffset LastAccessAt { get; init; }

    /// <summary>A pinned blob is never evicted (e.g. preheated on purpose).</summary>
    [JsonPropertyName("pinned")]
    public bool Pinned { get; init; }

    /// <summary>True once the blob is safely in the backend (written back); until then it must not be evicted.</summary>
    [JsonPropertyName("persisted")]
    public bool Persisted { get; init; }
}

[JsonSerializable(typeof(BlobMetadata))]
internal sealed partial class BlobMetadataJsonContext : JsonSerializerContext;
