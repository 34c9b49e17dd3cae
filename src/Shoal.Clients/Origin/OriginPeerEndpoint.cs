using System.Text.Json.Serialization;

namespace Shoal.Clients.Origin;

/// <summary>
/// An origin's peer-to-peer listener, as <c>GET /v1/p2p</c> describes it.
/// </summary>
/// <param name="Host">The address peers dial (IP or host name), or null: the host of the origin's own URL.</param>
/// <param name="Port">The P2P port.</param>
/// <param name="PeerId">The origin's peer id (64 hex characters).</param>
public sealed record OriginPeerEndpoint(
    [property: JsonPropertyName("host")] string? Host,
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("peerId")] string PeerId);

[JsonSerializable(typeof(OriginPeerEndpoint))]
internal sealed partial class OriginPeerJsonContext : JsonSerializerContext;
