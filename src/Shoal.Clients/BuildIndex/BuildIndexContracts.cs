using System.Text.Json.Serialization;

namespace Shoal.Clients.BuildIndex;

/// <summary>Body of a tag write and of a tag read: the digest the tag points at.</summary>
public sealed record TagRecord([property: JsonPropertyName("digest")] string Digest);

/// <summary>A manifest revision of a repository: its media type and size (the bytes live in origins).</summary>
public sealed record ManifestRecord(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("size")] long Size);

/// <summary>One page of a sorted listing (tags of a repository, or repositories).</summary>
public sealed record ListPage(
    [property: JsonPropertyName("items")] IReadOnlyList<string> Items,
    [property: JsonPropertyName("more")] bool More);

[JsonSerializable(typeof(TagRecord))]
[JsonSerializable(typeof(ManifestRecord))]
[JsonSerializable(typeof(ListPage))]
internal sealed partial class BuildIndexJsonContext : JsonSerializerContext;
