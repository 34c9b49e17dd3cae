using System.Text.Json.Serialization;
using Shoal.Clients.Tracker;

namespace Shoal.Tracker.Internal;

/// <summary>Source-generated JSON for the announce request and answer.</summary>
[JsonSerializable(typeof(AnnounceRequest))]
[JsonSerializable(typeof(AnnounceResponse))]
internal sealed partial class TrackerJsonContext : JsonSerializerContext;
