using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Shoal.Clients.Origin;
using Shoal.Clients.Tracker;
using Shoal.Core;

namespace Shoal.Tracker.Internal;

/// <summary>
/// The peer-to-peer addresses of the origins that own a blob (rendezvous hashing over the
/// configured origins), so every swarm can always reach the seeders that hold it. Each origin's
/// address (<c>GET /v1/p2p</c>) is cached: a minute when known, a few seconds when the origin did
/// not answer, so a restarted origin is found again quickly.
/// </summary>
internal sealed partial class OriginPeerDirectory
{
    private static readonly TimeSpan KnownTtl = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan UnknownTtl = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);

    private readonly OriginCluster _cluster;
    private readonly TimeProvider _time;
    private readonly ILogger<OriginPeerDirectory> _logger;
    private readonly ConcurrentDictionary<Uri, Lazy<Task<Entry>>> _entries = new();

    public OriginPeerDirectory(OriginCluster cluster, TimeProvider time, ILogger<OriginPeerDirectory> logger)
    {
        _cluster = cluster;
        _time = time;
        _logger = logger;
    }

    /// <summary>The P2P peers of <paramref name="digest"/>'s owners; when no owner has a reachable listener, the next origins in preference order.</summary>
    public async Task<IReadOnlyList<PeerInfo>> OwnersAsync(Digest digest, CancellationToken cancellationToken)
    {
        var found = new List<PeerInfo>(_cluster.Replicas);
        var preference = _cluster.ByPreference(digest);
        for (var i = 0; i < preference.Count; i++)
        {
            if (i >= _cluster.Replicas && found.Count > 0)
            {
                break;
            }
            if (await LookupAsync(preference[i], cancellationToken) is { } peer)
            {
                found.Add(peer);
            }
        }
        return found;
    }

    private async Task<PeerInfo?> LookupAsync(OriginClient origin, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lazy = _entries.GetOrAdd(origin.BaseAddress, _ => new Lazy<Task<Entry>>(() => FetchAsync(origin)));
            var entry = await lazy.Value.WaitAsync(cancellationToken);
            var ttl = entry.Peer is null ? UnknownTtl : KnownTtl;
            if (_time.GetElapsedTime(entry.FetchedAt) < ttl)
            {
                return entry.Peer;
            }
            _entries.TryRemove(KeyValuePair.Create(origin.BaseAddress, lazy));
        }
    }

    private async Task<Entry> FetchAsync(OriginClient origin)
    {
        try
        {
            using var timeout = new CancellationTokenSource(LookupTimeout, _time);
            var endpoint = await origin.GetPeerEndpointAsync(timeout.Token);
            if (endpoint is null || endpoint.Port is < 1 or > 65535)
            {
                return new Entry(null, _time.GetTimestamp());
            }
            var host = string.IsNullOrEmpty(endpoint.Host) ? origin.BaseAddress.IdnHost : endpoint.Host;
            return new Entry(new PeerInfo(endpoint.PeerId.ToLowerInvariant(), host, endpoint.Port, Origin: true, Complete: true), _time.GetTimestamp());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.LookupFailed(_logger, origin.BaseAddress, ex.Message);
            return new Entry(null, _time.GetTimestamp());
        }
    }

    private sealed record Entry(PeerInfo? Peer, long FetchedAt);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Origin {Origin} did not tell its peer-to-peer address: {Reason}")]
        public static partial void LookupFailed(ILogger logger, Uri origin, string reason);
    }
}
