using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.Hosting.Registry;

namespace Shoal.Origin.Internal;

/// <summary>The <c>/v1/blobs</c> API: read (filling misses from peer origins or the backend), upload, metainfo, delete.</summary>
internal sealed class BlobHandlers
{
    private readonly BlobStore _store;
    private readonly BackendFetcher _fetcher;
    private readonly CommitFollowUp _followUp;
    private readonly BlobLeases _leases;
    private readonly OriginMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeSpan _acceptedAfter;
    private readonly TimeProvider _time;

    public BlobHandlers(BlobStore store, CommitFollowUp followUp, BlobLeases leases, OriginMetrics metrics, ILogger<BlobHandlers> logger, BackendFetcher fetcher,
        OriginOptions options, TimeProvider time)
    {
        _acceptedAfter = options.Fetch.AcceptedAfter;
        _time = time;
        _store = store;
        _followUp = followUp;
        _leases = leases;
        _metrics = metrics;
        _logger = logger;
        _fetcher = fetcher;
    }

    /// <summary>
    /// <c>GET|HEAD /v1/blobs/{digest}</c>. A miss is filled from a peer origin or the backend; a
    /// whole-blob GET streams the bytes while they arrive, HEAD and Range requests wait for the fill.
    /// A request from a peer origin (<see cref="ClusterMembership.PeerFetchHeader"/>) is answered from
    /// the local cache only.
    /// </summary>
    public async Task<IResult> GetAsync(HttpContext context, string value)
    {
        var request = context.Request;
        if (!Problems.TryParseDigest(value, out var digest, out var problem) || !Problems.TryGetNamespace(request, out var ns, out problem))
        {
            return problem;
        }
        var touch = HttpMethods.IsGet(request.Method);
        if (Open(digest, touch) is { } hit)
        {
            return hit;
        }
        if (request.Headers.ContainsKey(ClusterMembership.PeerFetchHeader) || !_fetcher.CanFill)
        {
            return NotFound(digest);
        }
        var download = _fetcher.Join(digest, ns, out var remembered);
        if (download is null)
        {
            return Answer(digest, remembered!) ?? Open(digest, touch) ?? NotFound(digest);
        }
        if (touch && string.IsNullOrEmpty(request.Headers.Range))
        {
            if (await download.Size.WaitAsync(context.RequestAborted) is { } size)
            {
                return new TailBlobResult(download, size, _store, _metrics);
            }
        }
        var result = await download.Completion.WaitAsync(context.RequestAborted);
        return Answer(digest, result) ?? Open(digest, touch) ?? NotFound(digest); // deleted between the fill and now
    }

    /// <summary>
    /// <c>GET /v1/blobs/{digest}/metainfo</c>. A miss starts (or joins) its fill; a fill still running
    /// after <see cref="OriginFetchOptions.AcceptedAfter"/> is answered 202 Accepted with
    /// <c>Retry-After</c>, and the fill goes on without the request (the caller asks again).
    /// </summary>
    public async Task<IResult> GetMetaInfoAsync(HttpContext context, string value)
    {
        if (!Problems.TryParseDigest(value, out var digest, out var problem) || !Problems.TryGetNamespace(context.Request, out var ns, out problem))
        {
            return problem;
        }
        var cancellationToken = context.RequestAborted;
        if (!_store.Contains(digest))
        {
            try
            {
                if (await EnsureCachedAsync(digest, ns, cancellationToken).WaitAsync(_acceptedAfter, _time, cancellationToken) is { } missing)
                {
                    return missing;
                }
            }
            catch (TimeoutException)
            {
                // The fill runs on the application's lifetime, not on this request: it goes on.
                _metrics.MetaInfoPending.Add(1);
                context.Response.Headers.RetryAfter = "1";
                return Results.StatusCode(StatusCodes.Status202Accepted);
            }
        }
        var info = await _store.GetMetaInfoAsync(digest, cancellationToken);
        return info is null ? NotFound(digest) : Results.Bytes(info.ToJson(), "application/json");
    }

    /// <summary><c>PUT /v1/blobs/{digest}?namespace=&amp;replicate=</c>: a monolithic upload.</summary>
    public async Task<IResult> PutAsync(HttpContext context, string value)
    {
        var request = context.Request;
        if (!Problems.TryParseDigest(value, out var digest, out var problem)
            || !Problems.TryGetNamespace(request, out var ns, out problem)
            || !Problems.TryGetReplicate(request, out var replicate, out problem))
        {
            return problem;
        }
        var cancellationToken = context.RequestAborted;
        BlobCommitResult commit;
        try
        {
            commit = await _store.WriteAsync(digest, request.Body, request.ContentLength, cancellationToken);
        }
        catch (DigestMismatchException ex)
        {
            Log.UploadRefused(_logger, digest, ex.Message);
            return Problems.Create(StatusCodes.Status400BadRequest, "digest mismatch", ex.Message);
        }
        catch (InvalidDataException ex)
        {
            Log.UploadRefused(_logger, digest, ex.Message);
            return Problems.Create(StatusCodes.Status400BadRequest, "length mismatch", ex.Message);
        }
        if (await _followUp.CompleteAsync(commit, ns, replicate, cancellationToken) is { } failed)
        {
            return failed;
        }
        return Created(context, digest);
    }

    /// <summary>
    /// <c>DELETE /v1/blobs/{digest}</c>: drops the cached copy (the backend keeps its own). Refused
    /// with 409 while the blob awaits its write-back: the cached copy is then the only one.
    /// </summary>
    public IResult Delete(string value)
    {
        if (!Problems.TryParseDigest(value, out var digest, out var problem))
        {
            return problem;
        }
        if (_store.Stat(digest) is { Metadata.Persisted: false })
        {
            return Problems.Create(StatusCodes.Status409Conflict, "awaiting write-back", $"{digest} is not in its backend yet; it can be dropped once written back");
        }
        return _store.Delete(digest) ? Results.NoContent() : NotFound(digest);
    }

    /// <summary>The 201 answer to a committed upload.</summary>
    public static IResult Created(HttpContext context, Digest digest)
    {
        context.Response.Headers[RegistryResponses.DigestHeader] = digest.ToString();
        return Results.Created($"/v1/blobs/{digest}", null);
    }

    /// <summary>
    /// <c>POST /v1/blobs/{digest}/mount?namespace=&amp;from=</c>: the blob, known to namespace
    /// <c>from</c>, now also belongs to <c>namespace</c> (a registry's cross-repository mount). It is
    /// filled from <c>from</c>'s storage on a miss and then treated as an upload to
    /// <c>namespace</c> of bytes already here: written to that namespace's storage when it lacks them
    /// (through or back, as the namespace's rule says). 201 once that is done as for an upload; 404
    /// when the blob is nowhere (the client then uploads it).
    /// </summary>
    public async Task<IResult> MountAsync(HttpContext context, string value)
    {
        var request = context.Request;
        if (!Problems.TryParseDigest(value, out var digest, out var problem)
            || !Problems.TryGetNamespace(request, out var ns, out problem)
            || !Problems.TryGetNamespace(request, out var from, out problem, "from"))
        {
            return problem;
        }
        var cancellationToken = context.RequestAborted;
        using var lease = _leases.Acquire(digest); // not evicted between the fill and the follow-up
        if (!_store.Contains(digest) && await EnsureCachedAsync(digest, from, cancellationToken) is { } missing)
        {
            return missing;
        }
        if (_store.Stat(digest) is not { } info || await _store.GetMetaInfoAsync(digest, cancellationToken) is not { } metaInfo)
        {
            return NotFound(digest);
        }
        var commit = new BlobCommitResult(digest, info.Size, metaInfo, Created: false);
        if (await _followUp.CompleteAsync(commit, ns, replicate: false, cancellationToken) is { } failed)
        {
            return failed;
        }
        return Created(context, digest);
    }

    /// <summary>Fills a miss; null when the blob is now cached, else the answer to give.</summary>
    private async Task<IResult?> EnsureCachedAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        if (!_fetcher.CanFill)
        {
            return NotFound(digest);
        }
        return Answer(digest, await _fetcher.FetchAsync(digest, ns, cancellationToken));
    }

    /// <summary>Null when the fill stored the blob, else the problem that tells why not.</summary>
    private IResult? Answer(Digest digest, FetchResult result) => result.Status switch
    {
        FetchStatus.Stored => null,
        FetchStatus.NotFound => NotFound(digest),
        FetchStatus.Corrupt => Problems.Create(StatusCodes.Status502BadGateway, "corrupt backend object", result.Detail ?? digest.ToString()),
        _ => Problems.Create(StatusCodes.Status502BadGateway, "backend unavailable", $"fetching {digest} failed: {result.Detail}"),
    };

    /// <summary>The cached blob's answer, or null when it is not cached.</summary>
    private BlobFileResult? Open(Digest digest, bool touch)
    {
        var lease = _leases.Acquire(digest);
        var stream = _store.OpenRead(digest, touch);
        if (stream is null)
        {
            lease.Dispose();
            return null;
        }
        return new BlobFileResult(digest, stream, _metrics, lease);
    }

    private IResult NotFound(Digest digest)
        => Problems.Create(StatusCodes.Status404NotFound, "blob unknown", !_fetcher.CanFill
            ? $"{digest} is not in this origin"
            : $"{digest} is neither in this origin nor in its peers or backend");
}
