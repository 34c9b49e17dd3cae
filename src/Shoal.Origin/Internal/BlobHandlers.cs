using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.Hosting.Registry;

namespace Shoal.Origin.Internal;

/// <summary>The <c>/v1/blobs</c> API: read (fetching misses from the backend), upload, metainfo, delete.</summary>
internal sealed class BlobHandlers
{
    private readonly BlobStore _store;
    private readonly BackendFetcher? _fetcher;
    private readonly CommitFollowUp _followUp;
    private readonly OriginMetrics _metrics;
    private readonly ILogger _logger;

    public BlobHandlers(BlobStore store, CommitFollowUp followUp, OriginMetrics metrics, ILogger<BlobHandlers> logger, BackendFetcher? fetcher = null)
    {
        _store = store;
        _followUp = followUp;
        _metrics = metrics;
        _logger = logger;
        _fetcher = fetcher;
    }

    /// <summary><c>GET|HEAD /v1/blobs/{digest}</c>.</summary>
    public async Task<IResult> GetAsync(HttpContext context, string value)
    {
        if (!Problems.TryParseDigest(value, out var digest, out var problem) || !Problems.TryGetNamespace(context.Request, out _, out problem))
        {
            return problem;
        }
        var touch = HttpMethods.IsGet(context.Request.Method);
        var stream = _store.OpenRead(digest, touch);
        if (stream is null)
        {
            if (await EnsureCachedAsync(digest, context.RequestAborted) is { } missing)
            {
                return missing;
            }
            stream = _store.OpenRead(digest, touch);
            if (stream is null)
            {
                return NotFound(digest); // deleted between the fetch and now
            }
        }
        return new BlobFileResult(digest, stream, _metrics);
    }

    /// <summary><c>GET /v1/blobs/{digest}/metainfo</c>.</summary>
    public async Task<IResult> GetMetaInfoAsync(HttpContext context, string value)
    {
        if (!Problems.TryParseDigest(value, out var digest, out var problem) || !Problems.TryGetNamespace(context.Request, out _, out problem))
        {
            return problem;
        }
        var cancellationToken = context.RequestAborted;
        if (!_store.Contains(digest) && await EnsureCachedAsync(digest, cancellationToken) is { } missing)
        {
            return missing;
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

    /// <summary><c>DELETE /v1/blobs/{digest}</c>: drops the cached copy (the backend keeps its own).</summary>
    public IResult Delete(string value)
    {
        if (!Problems.TryParseDigest(value, out var digest, out var problem))
        {
            return problem;
        }
        return _store.Delete(digest) ? Results.NoContent() : NotFound(digest);
    }

    /// <summary>The 201 answer to a committed upload.</summary>
    public static IResult Created(HttpContext context, Digest digest)
    {
        context.Response.Headers[RegistryResponses.DigestHeader] = digest.ToString();
        return Results.Created($"/v1/blobs/{digest}", null);
    }

    /// <summary>Fills a miss from the backend; null when the blob is now cached, else the answer to give.</summary>
    private async Task<IResult?> EnsureCachedAsync(Digest digest, CancellationToken cancellationToken)
    {
        if (_fetcher is null)
        {
            return NotFound(digest);
        }
        var result = await _fetcher.FetchAsync(digest, cancellationToken);
        return result.Status switch
        {
            FetchStatus.Stored => null,
            FetchStatus.NotFound => NotFound(digest),
            FetchStatus.Corrupt => Problems.Create(StatusCodes.Status502BadGateway, "corrupt backend object", result.Detail ?? digest.ToString()),
            _ => Problems.Create(StatusCodes.Status502BadGateway, "backend unavailable", $"fetching {digest} from the backend failed: {result.Detail}"),
        };
    }

    private IResult NotFound(Digest digest)
        => Problems.Create(StatusCodes.Status404NotFound, "blob unknown", _fetcher is null
            ? $"{digest} is not in this origin"
            : $"{digest} is neither in this origin nor in its backend");
}
