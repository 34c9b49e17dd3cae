using System.Text.Json.Serialization;
using Shoal.Clients.BuildIndex;

namespace Shoal.BuildIndex.Internal;

/// <summary><c>GET /v1/replication</c>: the queue's depth and its tasks, soonest first.</summary>
internal sealed record ReplicationListing(
    [property: JsonPropertyName("depth")] long Depth,
    [property: JsonPropertyName("tasks")] IReadOnlyList<ReplicationListing.Entry> Tasks)
{
    internal sealed record Entry(
        [property: JsonPropertyName("repository")] string Repository,
        [property: JsonPropertyName("tag")] string Tag,
        [property: JsonPropertyName("digest")] string Digest,
        [property: JsonPropertyName("remote")] string Remote,
        [property: JsonPropertyName("delete")] bool Delete,
        [property: JsonPropertyName("attempts")] int Attempts,
        [property: JsonPropertyName("nextAttempt")] DateTimeOffset NextAttempt,
        [property: JsonPropertyName("lastError")] string? LastError);
}

/// <summary>Source-generated JSON for the wire records, which are also the stored records.</summary>
[JsonSerializable(typeof(TagRecord))]
[JsonSerializable(typeof(ManifestRecord))]
[JsonSerializable(typeof(ListPage))]
[JsonSerializable(typeof(ReplicationListing))]
internal sealed partial class RecordJsonContext : JsonSerializerContext;
