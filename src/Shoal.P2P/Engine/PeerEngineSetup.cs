using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Shoal.Core.Store;
using Shoal.P2P.Storage;

namespace Shoal.P2P.Engine;

/// <summary>What a <see cref="PeerEngine"/> works with besides its options.</summary>
public sealed class PeerEngineSetup
{
    /// <summary>True for an origin (announced in handshakes; its upload is spared for pieces no agent has).</summary>
    public bool IsOrigin { get; init; }

    /// <summary>Where finished downloads are committed (verified again). Required to download.</summary>
    public BlobStore? Store { get; init; }

    /// <summary>Where in-progress downloads live between restarts. Required to download.</summary>
    public PartialStore? Partials { get; init; }

    /// <summary>Complete blobs this peer serves to peers that connect for them. Optional.</summary>
    public ISeedSource? Seeds { get; init; }

    /// <summary>The tracker; null for a peer that never announces (an origin: the tracker hands origins out itself).</summary>
    public IAnnouncer? Announcer { get; init; }

    /// <summary>The clock. Default the system clock.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Logging. Default none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The host's meter factory: the engine's instruments go on its meter <c>Shoal.P2P</c>. Default none.</summary>
    public IMeterFactory? MeterFactory { get; init; }
}
