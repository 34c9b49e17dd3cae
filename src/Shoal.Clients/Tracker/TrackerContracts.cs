using System.Text.Json.Serialization;

namespace Shoal.Clients.Tracker;

/// <summary>A peer as the tracker knows it.</summary>
/// <param name="Id">The peer's id (hex).</param>
/// <param name="Ip">The address other peers dial.</param>
/// <param name="Port">The P2P port.</param>
/// <param name="Origin">True for origins (seeders of last resort).</param>
/// <param name="Complete">True when the peer holds the whole blob.</param>
public sealed record PeerInfo(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("ip")] string Ip,
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("origin")] bool Origin,
    [property: JsonPropertyName("complete")] bool Complete);

/// <summary>An announce: "this peer is downloading or seeding this blob".</summary>
public sealed record AnnounceRequest(
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("namespace")] string? Namespace,
    [property: JsonPropertyName("peer")] PeerInfo Peer);

/// <summary>The tracker's answer: peers to connect to, and when to announce again.</summary>
public sealed record AnnounceResponse(
    [property: JsonPropertyName("peers")] IReadOnlyList<PeerInfo> Peers,
    [property: JsonPropertyName("intervalSeconds")] double IntervalSeconds);

[JsonSerializable(typeof(AnnounceRequest))]
[JsonSerializable(typeof(AnnounceResponse))]
internal sealed partial class TrackerJsonContext : JsonSerializerContext;
