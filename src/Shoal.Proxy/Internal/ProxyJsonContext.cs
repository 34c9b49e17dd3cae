using System.Text.Json.Serialization;

namespace Shoal.Proxy.Internal;

/// <summary>Source-generated JSON of the proxy's bodies.</summary>
[JsonSerializable(typeof(TagList))]
[JsonSerializable(typeof(Catalog))]
internal sealed partial class ProxyJsonContext : JsonSerializerContext;
