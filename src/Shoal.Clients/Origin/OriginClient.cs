using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.Clients.Origin;

/// <summary>
/// Typed client of one origin's blob API (<c>/v1/blobs</c>, <c>/v1/uploads</c>). The namespace
/// (repository) travels with every call: origins route it to a storage backend.
/// </summary>
public sealed class OriginClient
{
    private const string Service = "origin";
    private readonly HttpClient _http;

    public OriginClient(HttpClient http, Uri baseAddress)
    {
        _http = http;
        BaseAddress = baseAddress;
    }

    /// <summary>The origin's base URL.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The blob's length, or null when the origin does not have it and cannot fetch it.</summary>
    public async Task<long?> StatAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, BlobUri(digest, ns));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        return response.Content.Headers.ContentLength;
    }

    /// <summary>Opens the blob (or a range of it) for streaming, or returns null when the origin does not have it.</summary>
    public async Task<OriginBlob?> OpenReadAsync(Digest digest, string? ns, ByteRange? range, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, BlobUri(digest, ns));
        if (range is { } r)
        {
            request.Headers.Range = new RangeHeaderValue(r.From, r.To);
        }
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                response.Dispose();
                return null;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
            }
            var headers = response.Content.Headers;
            long total;
            long offset = 0;
            if (response.StatusCode == HttpStatusCode.PartialContent && headers.ContentRange is { Length: { } length, From: { } from })
            {
                total = length;
                offset = from;
            }
            else
            {
                total = headers.ContentLength ?? throw new ServiceException(Service, response.StatusCode, "blob response without Content-Length");
            }
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new OriginBlob(response, stream, total, headers.ContentLength, offset);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary><c>GET /v1/p2p</c>: where the origin's peer-to-peer listener is, or null when it has none (404).</summary>
    public async Task<OriginPeerEndpoint?> GetPeerEndpointAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(BaseAddress, "v1/p2p"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        return await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync(response.Content, OriginPeerJsonContext.Default.OriginPeerEndpoint, cancellationToken);
    }

    /// <summary>
    /// The blob's piece metadata, or null when the origin does not have the blob. A blob the origin
    /// is fetching from its backend is waited for (polled; see <see cref="LookupMetaInfoAsync"/>).
    /// </summary>
    public Task<MetaInfo?> GetMetaInfoAsync(Digest digest, string? ns, CancellationToken cancellationToken)
        => MetaInfoLookup.PollAsync(digest, ct => LookupMetaInfoAsync(digest, ns, ct), TimeProvider.System, cancellationToken);

    /// <summary>
    /// <c>GET /v1/blobs/{digest}/metainfo</c> once: the metainfo, not found, or pending (202: the
    /// origin is fetching the blob from its backend; ask again later).
    /// </summary>
    public async Task<MetaInfoLookup> LookupMetaInfoAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(BaseAddress, $"v1/blobs/{digest}/metainfo{NsQuery(ns, first: true)}"), cancellationToken);
        return await MetaInfoLookup.ReadAsync(Service, response, digest, cancellationToken);
    }

    /// <summary>
    /// Uploads a whole blob in one request. The origin verifies the digest before it acknowledges;
    /// a mismatch is a <see cref="ServiceException"/> with status 400.
    /// </summary>
    /// <param name="replicate">Whether the receiving origin copies the blob to the other replicas (false when this call is itself a replication).</param>
    public async Task UploadAsync(Digest digest, Stream content, long length, string? ns, bool replicate, CancellationToken cancellationToken)
    {
        using var body = new StreamContent(content, Core.Blobs.StreamBuffers.CopyBufferSize);
        body.Headers.ContentLength = length;
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var uri = new Uri(BaseAddress, $"v1/blobs/{digest}{NsQuery(ns, first: true)}{(replicate ? "" : (ns is null ? "?" : "&") + "replicate=false")}");
        using var response = await _http.PutAsync(uri, body, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
    }

    /// <summary>
    /// Makes the blob, known to namespace <paramref name="from"/>, part of namespace
    /// <paramref name="ns"/> too (a cross-repository mount): the origin fetches it from
    /// <paramref name="from"/>'s storage if it must and writes it to <paramref name="ns"/>'s storage
    /// if that lacks it. False when the blob is nowhere.
    /// </summary>
    public async Task<bool> MountAsync(Digest digest, string ns, string? from, CancellationToken cancellationToken)
    {
        var query = NsQuery(ns, first: true) + (string.IsNullOrEmpty(from) ? "" : "&from=" + Uri.EscapeDataString(from));
        using var response = await _http.PostAsync(new Uri(BaseAddress, $"v1/blobs/{digest}/mount{query}"), null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        return true;
    }

    /// <summary>Starts a chunked upload session and returns its id.</summary>
    public async Task<string> StartUploadAsync(string? ns, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync(new Uri(BaseAddress, $"v1/uploads{NsQuery(ns, first: true)}"), content: null, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return json.RootElement.TryGetProperty("id", out var id) && id.GetString() is { Length: > 0 } value
            ? value
            : throw new ServiceException(Service, response.StatusCode, "upload start answer without an id");
    }

    /// <summary>
    /// Appends <paramref name="length"/> bytes to an upload session and returns its new size. With
    /// <paramref name="offset"/> the origin refuses (status 416) a chunk that does not start at the
    /// session's current size, so a retried chunk is never appended twice.
    /// </summary>
    public async Task<long> AppendUploadAsync(string id, Stream chunk, long length, long? offset, CancellationToken cancellationToken)
    {
        using var body = new StreamContent(chunk, Core.Blobs.StreamBuffers.CopyBufferSize);
        body.Headers.ContentLength = length;
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (offset is { } start && length > 0)
        {
            body.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + length - 1}");
        }
        using var request = new HttpRequestMessage(HttpMethod.Patch, UploadUri(id, query: null)) { Content = body };
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return json.RootElement.TryGetProperty("size", out var size) && size.TryGetInt64(out var value)
            ? value
            : throw new ServiceException(Service, response.StatusCode, "upload answer without a size");
    }

    /// <summary>
    /// Finishes an upload session: the origin verifies the bytes against <paramref name="digest"/>
    /// (a mismatch is a <see cref="ServiceException"/> with status 400 and the session stays) and stores them.
    /// </summary>
    public async Task CommitUploadAsync(string id, Digest digest, bool replicate, CancellationToken cancellationToken)
    {
        var query = "digest=" + Uri.EscapeDataString(digest.ToString()) + (replicate ? "" : "&replicate=false");
        using var response = await _http.PutAsync(UploadUri(id, query), content: null, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
    }

    /// <summary>Cancels an upload session. Returns false when the origin did not know it.</summary>
    public async Task<bool> CancelUploadAsync(string id, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync(UploadUri(id, query: null), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        return true;
    }

    /// <summary>Deletes the origin's cached copy of a blob. Returns false when it had none.</summary>
    public async Task<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync(new Uri(BaseAddress, $"v1/blobs/{digest}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        return true;
    }

    /// <summary>True when the origin answers its readiness check.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(BaseAddress, "readiness"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private Uri UploadUri(string id, string? query)
        => new(BaseAddress, "v1/uploads/" + Uri.EscapeDataString(id) + (query is null ? "" : "?" + query));

    private Uri BlobUri(Digest digest, string? ns) => new(BaseAddress, $"v1/blobs/{digest}{NsQuery(ns, first: true)}");

    private static string NsQuery(string? ns, bool first)
        => ns is null ? "" : (first ? "?" : "&") + "namespace=" + Uri.EscapeDataString(ns);
}
