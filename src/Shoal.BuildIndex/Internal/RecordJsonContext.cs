using System.Text.Json.Serialization;
using Shoal.Clients.BuildIndex;

namespace Shoal.BuildIndex.Internal;

/// <summary>Source-generated JSON for the wire records, which are also the stored records.</summary>
[JsonSerializable(typeof(TagRecord))]
[JsonSerializable(typeof(ManifestRecord))]
[JsonSerializable(typeof(ListPage))]
internal sealed partial class RecordJsonContext : JsonSerializerContext;
