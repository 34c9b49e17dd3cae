using System.Text.Json.Serialization;

namespace Shoal.Origin.Internal;

/// <summary>The JSON body of upload session answers.</summary>
/// <param name="Id">The session id.</param>
/// <param name="Size">Bytes received so far.</param>
internal sealed record UploadStatus(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("size")] long Size);

[JsonSerializable(typeof(UploadStatus))]
internal sealed partial class OriginJsonContext : JsonSerializerContext;
