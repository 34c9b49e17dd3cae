using System.Net;
using Microsoft.AspNetCore.Builder;

namespace Shoal.Dev;

/// <summary>One started component of a <see cref="DevCluster"/>.</summary>
public sealed class DevComponent
{
    internal DevComponent(string name, WebApplication app, Uri url, string? dataDir, IPEndPoint? peerEndPoint)
    {
        PeerEndPoint = peerEndPoint;
        Name = name;
        App = app;
        Url = url;
        DataDir = dataDir;
    }

    /// <summary>The component's name: <c>proxy</c>, <c>origin</c>, <c>tracker</c>, <c>build-index</c>, <c>agent-0</c>, ….</summary>
    public string Name { get; }

    /// <summary>The running host.</summary>
    public WebApplication App { get; }

    /// <summary>The base URL it serves on (with the real port), ending in a slash.</summary>
    public Uri Url { get; }

    /// <summary>Its data directory, or null for a component without one (tracker).</summary>
    public string? DataDir { get; }

    /// <summary>Where it listens for peer-to-peer connections (origin and agents), or null.</summary>
    public IPEndPoint? PeerEndPoint { get; }

    /// <summary><c>host:port</c> of <see cref="Url"/>, the form registry clients put in image references.</summary>
    public string HostPort => Url.Authority;
}
