using System.Net;
using System.Net.Http.Json;
using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.Clients.Tracker;

/// <summary>
/// Typed client of the tracker:
/// <code>
/// POST /v1/announce/{infoHash}     AnnounceRequest → AnnounceResponse
/// GET  /v1/metainfo/{digest}?namespace=   MetaInfo JSON (from the origins); 202 while they fetch it
/// </code>
/// </summary>
public sealed class TrackerClient
{
    private const string Service = "tracker";
    private readonly HttpClient _http;

    public TrackerClient(HttpClient http, Uri baseAddress)
    {
        _http = http;
        BaseAddress = baseAddress;
    }

    /// <summary>The tracker's base URL.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Announces <paramref name="peer"/> in the swarm of <paramref name="infoHash"/>.</summary>
    public async Task<AnnounceResponse> AnnounceAsync(string infoHash, Digest digest, string? ns, PeerInfo peer, CancellationToken cancellationToken)
    {
        using var content = JsonContent.Create(new AnnounceRequest(digest.ToString(), ns, peer), TrackerJsonContext.Default.AnnounceRequest);
        using var response = await _http.PostAsync(new Uri(BaseAddress, "v1/announce/" + Uri.EscapeDataString(infoHash)), content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        return await response.Content.ReadFromJsonAsync(TrackerJsonContext.Default.AnnounceResponse, cancellationToken)
            ?? throw new ServiceException(Service, response.StatusCode, "empty announce response");
    }

    /// <summary>
    /// The blob's metainfo, or null when no origin has the blob. A blob the origins are fetching
    /// from their backend is waited for (polled; see <see cref="LookupMetaInfoAsync"/>).
    /// </summary>
    public Task<MetaInfo?> GetMetaInfoAsync(Digest digest, string? ns, CancellationToken cancellationToken)
        => MetaInfoLookup.PollAsync(digest, ct => LookupMetaInfoAsync(digest, ns, ct), TimeProvider.System, cancellationToken);

    /// <summary>
    /// <c>GET /v1/metainfo/{digest}</c> once: the metainfo, not found, or pending (202: an owning
    /// origin is fetching the blob from its backend; ask again after the answer's <c>RetryAfter</c>).
    /// </summary>
    public async Task<MetaInfoLookup> LookupMetaInfoAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        var query = ns is null ? "" : "?namespace=" + Uri.EscapeDataString(ns);
        using var response = await _http.GetAsync(new Uri(BaseAddress, $"v1/metainfo/{digest}{query}"), cancellationToken);
        return await MetaInfoLookup.ReadAsync(Service, response, digest, cancellationToken);
    }
}
