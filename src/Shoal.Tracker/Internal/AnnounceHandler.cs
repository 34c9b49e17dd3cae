using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Shoal.Clients.Tracker;
using Shoal.Core;

namespace Shoal.Tracker.Internal;

/// <summary>
/// <c>POST /v1/announce/{infoHash}</c>: records the announcing peer in the swarm and answers with
/// other peers to connect to (<see cref="PeerHandout"/>) and when to announce again.
/// </summary>
internal sealed class AnnounceHandler
{
    /// <summary>An announce is a few hundred bytes of JSON; anything bigger is refused (413).</summary>
    private const int MaxBodySize = 16 * 1024;

    private const int MaxPeerIdLength = 64;

    /// <summary>A failing peer store is reported at most this often (announces keep coming).</summary>
    private const long StoreWarningEveryMs = 10_000;

    private readonly IPeerStore _store;
    private readonly TrackerOptions _options;
    private readonly IReadOnlyList<PeerInfo> _originPeers;
    private readonly OriginPeerDirectory _owners;
    private readonly ILogger<AnnounceHandler> _logger;
    private readonly TrackerMetrics _metrics;
    private long _lastStoreWarning = Environment.TickCount64 - StoreWarningEveryMs;

    public AnnounceHandler(IPeerStore store, TrackerOptions options, OriginPeerDirectory owners, TrackerMetrics metrics, ILogger<AnnounceHandler> logger)
    {
        _store = store;
        _metrics = metrics;
        _options = options;
        _owners = owners;
        _logger = logger;
        var origins = new List<PeerInfo>();
        foreach (var address in options.OriginPeers)
        {
            // Options were validated at start: every entry parses.
            if (OriginPeer.TryParse(address, out var peer, out _) && !origins.Exists(o => o.Ip == peer.Ip && o.Port == peer.Port))
            {
                origins.Add(peer);
            }
        }
        _originPeers = origins;
    }

    public async Task<IResult> AnnounceAsync(HttpContext context, string infoHash)
    {
        var result = await HandleAsync(context, infoHash);
        if (result is IStatusCodeHttpResult { StatusCode: >= 400 })
        {
            _metrics.Announced("invalid", 0);
        }
        return result;
    }

    private async Task<IResult> HandleAsync(HttpContext context, string infoHash)
    {
        var cancellationToken = context.RequestAborted;
        if (!IsInfoHash(infoHash))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid info hash", $"info hash '{Problems.Truncate(infoHash)}' is not 64 lowercase hex characters");
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            sizeLimit.MaxRequestBodySize = MaxBodySize;
        }
        AnnounceRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(context.Request.Body, TrackerJsonContext.Default.AnnounceRequest, cancellationToken);
        }
        catch (JsonException ex)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid announce", "the body is not an announce request: " + ex.Message);
        }
        catch (BadHttpRequestException ex)
        {
            return Problems.Create(ex.StatusCode, "invalid announce", ex.Message);
        }
        if (request is null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid announce", "the body is JSON null");
        }
        if (!Digest.TryParse(request.Digest, out var digest, out var digestError))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid digest", digestError);
        }
        if (!Problems.TryValidateNamespace(request.Namespace, out _, out var nsProblem))
        {
            return nsProblem;
        }
        if (!TryValidatePeer(request.Peer, context.Connection.RemoteIpAddress, out var peer, out var peerError))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid peer", peerError);
        }

        IReadOnlyList<PeerInfo> swarm;
        var outcome = "ok";
        try
        {
            await _store.UpdatePeerAsync(infoHash, peer, cancellationToken);
            // One more than the limit: the sample may contain the caller, who is never handed out.
            swarm = await _store.GetPeersAsync(infoHash, _options.MaxPeersPerAnnounce + 1, cancellationToken);
        }
        catch (PeerStoreUnavailableException ex)
        {
            // Degraded, not down: the origins are still handed out, so the caller's download goes
            // on (from the origins) while the shared store is away; readiness says why.
            swarm = [];
            outcome = "degraded";
            var now = Environment.TickCount64;
            var last = Interlocked.Read(ref _lastStoreWarning);
            if (now - last >= StoreWarningEveryMs && Interlocked.CompareExchange(ref _lastStoreWarning, now, last) == last)
            {
                Log.PeerStoreFailed(_logger, ex.Message);
            }
        }
        // The blob's owning origins are always handed out (plus any configured fixed origin peers).
        var owners = await _owners.OwnersAsync(digest, cancellationToken);
        var origins = owners.Count == 0 ? _originPeers : [.. _originPeers, .. owners];
        var peers = PeerHandout.Select(swarm, peer, origins, _options.MaxPeersPerAnnounce);
        Log.Announced(_logger, infoHash, digest, peer.Id, peer.Complete, peers.Count);
        _metrics.Announced(outcome, peers.Count);
        // Seeders only have to stay within the TTL; downloaders come back sooner to learn new peers.
        var interval = peer.Complete ? _options.EffectiveSeederAnnounceInterval : _options.AnnounceInterval;
        return Results.Json(new AnnounceResponse(peers, interval.TotalSeconds), TrackerJsonContext.Default.AnnounceResponse);
    }

    private static bool IsInfoHash(string value)
    {
        if (value.Length != 64)
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Checks the announced peer and puts it in canonical form: lowercase id, the address as
    /// <see cref="IPAddress"/> prints it. An unspecified address (<c>0.0.0.0</c>, <c>::</c>) means
    /// "the address you see me at": the connection's remote address.
    /// </summary>
    private static bool TryValidatePeer(PeerInfo? announced, IPAddress? remote, out PeerInfo peer, out string error)
    {
        peer = null!;
        if (announced is null)
        {
            error = "the announce has no peer";
            return false;
        }
        if (string.IsNullOrEmpty(announced.Id) || announced.Id.Length > MaxPeerIdLength || !announced.Id.All(char.IsAsciiHexDigit))
        {
            error = $"peer id '{Problems.Truncate(announced.Id)}' is not 1-{MaxPeerIdLength} hex characters";
            return false;
        }
        if (!IPAddress.TryParse(announced.Ip, out var address))
        {
            error = $"peer ip '{Problems.Truncate(announced.Ip)}' is not an IP address";
            return false;
        }
        if ((address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) && remote is not null)
        {
            address = remote;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (announced.Port is < 1 or > 65535)
        {
            error = $"peer port {announced.Port} is not 1-65535";
            return false;
        }
        peer = announced with { Id = announced.Id.ToLowerInvariant(), Ip = address.ToString() };
        error = string.Empty;
        return true;
    }
}
