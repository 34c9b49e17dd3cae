using System.Text.Json.Serialization;

namespace Shoal.Proxy.Internal;

/// <summary>The body of <c>GET /v2/_catalog</c>.</summary>
internal sealed record Catalog([property: JsonPropertyName("repositories")] IReadOnlyList<string> Repositories);
