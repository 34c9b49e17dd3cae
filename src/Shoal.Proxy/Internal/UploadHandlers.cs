using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Core.Store;
using Shoal.Hosting.Registry;

namespace Shoal.Proxy.Internal;

/// <summary>
/// The upload flow: <c>POST /v2/&lt;name&gt;/blobs/uploads/</c> (start, monolithic with <c>?digest=</c>,
/// or cross-repository mount with <c>?mount=&amp;from=</c>), then <c>PATCH</c> chunks, <c>PUT ?digest=</c>
/// to commit, <c>GET</c> for the status and <c>DELETE</c> to cancel. Sessions live in the proxy's data
/// directory; a commit verifies the digest here, streams the bytes to the blob's owner among the
/// origins (which verifies again), links the blob to the repository in build-index, and only then
/// answers 201.
/// </summary>
internal sealed class UploadHandlers(
    UploadStore uploads,
    SessionLocks locks,
    OriginCluster origins,
    BuildIndexClient buildIndex,
    ProxyMetrics metrics,
    ILogger<UploadHandlers> logger)
{
    /// <summary><c>POST /v2/&lt;name&gt;/blobs/uploads/</c>.</summary>
    public async Task<IResult> StartAsync(HttpContext context, string name, CancellationToken cancellationToken)
    {
        var query = context.Request.Query;
        if (query["mount"].FirstOrDefault() is { Length: > 0 } mount)
        {
            if (!Answers.TryParseDigest(mount, "mount digest", out var mounted, out var problem))
            {
                return problem;
            }
            if (await TryMountAsync(context, name, mounted, query["from"].FirstOrDefault(), cancellationToken) is { } done)
            {
                return done;
            }
            // Not mountable: the client pushes the blob instead, in a normal session (what the spec asks).
            return Started(context, name, uploads.Start(name));
        }

        if (query["digest"].FirstOrDefault() is { } digestValue)
        {
            if (!Answers.TryParseDigest(digestValue, "digest", out var digest, out var problem))
            {
                return problem;
            }
            return await MonolithicAsync(context, name, digest, cancellationToken);
        }
        return Started(context, name, uploads.Start(name));
    }

    /// <summary><c>GET /v2/&lt;name&gt;/blobs/uploads/&lt;id&gt;</c>: 204 with the session's Range.</summary>
    public IResult Status(HttpContext context, string name, string id)
    {
        if (Find(name, id) is not { } session)
        {
            return UnknownUpload(id);
        }
        SetSessionHeaders(context.Response, name, session.Id, session.Size);
        return Results.NoContent();
    }

    /// <summary><c>PATCH /v2/&lt;name&gt;/blobs/uploads/&lt;id&gt;</c>: appends a chunk.</summary>
    public async Task<IResult> AppendAsync(HttpContext context, string name, string id, CancellationToken cancellationToken)
    {
        if (Find(name, id) is null)
        {
            return UnknownUpload(id);
        }
        using var held = await locks.AcquireAsync(id, cancellationToken);
        var (size, problem) = await AppendBodyAsync(context, name, id, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        SetSessionHeaders(context.Response, name, id, size);
        context.Response.ContentLength = 0;
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    /// <summary><c>PUT /v2/&lt;name&gt;/blobs/uploads/&lt;id&gt;?digest=</c>: the optional last chunk, then the commit.</summary>
    public async Task<IResult> CompleteAsync(HttpContext context, string name, string id, CancellationToken cancellationToken)
    {
        if (Find(name, id) is null)
        {
            return UnknownUpload(id);
        }
        var digestValues = context.Request.Query["digest"];
        if (digestValues.Count != 1)
        {
            return Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.DIGEST_INVALID,
                "completing an upload needs exactly one digest query parameter");
        }
        if (!Answers.TryParseDigest(digestValues[0], "digest", out var digest, out var problem))
        {
            return problem;
        }
        using var held = await locks.AcquireAsync(id, cancellationToken);
        var (size, appendProblem) = await AppendBodyAsync(context, name, id, cancellationToken);
        if (appendProblem is not null)
        {
            return appendProblem;
        }
        return await CommitAsync(context, name, id, size, digest, cancellationToken);
    }

    /// <summary><c>DELETE /v2/&lt;name&gt;/blobs/uploads/&lt;id&gt;</c>: 204.</summary>
    public async Task<IResult> CancelAsync(string name, string id, CancellationToken cancellationToken)
    {
        if (Find(name, id) is null)
        {
            return UnknownUpload(id);
        }
        using var held = await locks.AcquireAsync(id, cancellationToken);
        return uploads.Delete(id) ? Results.NoContent() : UnknownUpload(id);
    }

    /// <summary>The session <paramref name="id"/> when it exists and belongs to <paramref name="name"/>.</summary>
    private UploadSession? Find(string name, string id)
        => uploads.Get(id) is { } session && string.Equals(session.Repository, name, StringComparison.Ordinal) ? session : null;

    /// <summary>Links <paramref name="digest"/> into <paramref name="name"/> when it is linked in <paramref name="from"/>; null when it cannot.</summary>
    private async Task<IResult?> TryMountAsync(HttpContext context, string name, Digest digest, string? from, CancellationToken cancellationToken)
    {
        // A missing or invalid 'from' is no error: the OCI spec lets the registry start a normal upload instead.
        if (string.IsNullOrEmpty(from) || !RepositoryName.IsValid(from, out _) || !await buildIndex.HasBlobLinkAsync(from, digest, cancellationToken))
        {
            return null;
        }
        // The origins first: the repository may live on another storage, which must get the bytes
        // before the link says they are there.
        try
        {
            if (!await origins.MountAsync(digest, name, from, cancellationToken))
            {
                return null;
            }
        }
        catch (ServiceException ex)
        {
            // The origins cannot do it now (a storage down): the client uploads the blob instead.
            Log.MountFailed(logger, name, digest, from, ex.Message);
            return null;
        }
        await buildIndex.PutBlobLinkAsync(name, digest, cancellationToken);
        Log.BlobMounted(logger, name, digest, from);
        metrics.BlobMounted();
        return Created(context, name, digest);
    }

    private async Task<IResult> MonolithicAsync(HttpContext context, string name, Digest digest, CancellationToken cancellationToken)
    {
        var session = uploads.Start(name);
        var committed = false;
        try
        {
            using var held = await locks.AcquireAsync(session.Id, cancellationToken);
            var (size, problem) = await AppendBodyAsync(context, name, session.Id, cancellationToken);
            if (problem is not null)
            {
                return problem;
            }
            var result = await CommitAsync(context, name, session.Id, size, digest, cancellationToken);
            committed = true;
            return result;
        }
        finally
        {
            if (!committed)
            {
                // A single-request upload has no session for the client to resume.
                uploads.Delete(session.Id);
            }
        }
    }

    /// <summary>
    /// Appends the request body to the session. With a <c>Content-Range</c> the chunk must start at
    /// the session's size (else 416) and be exactly as long as announced (else 400 SIZE_INVALID);
    /// either way a refused or broken chunk leaves the session as it was.
    /// </summary>
    private async Task<(long Size, IResult? Problem)> AppendBodyAsync(HttpContext context, string name, string id, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var header = request.Headers.ContentRange.ToString();
        ContentRange? range = null;
        if (!string.IsNullOrEmpty(header))
        {
            if (!ContentRange.TryParse(header, out var parsed))
            {
                return (0, RangeInvalid(context, name, id, $"Content-Range '{Answers.Truncate(header)}' is not <start>-<end> with end ≥ start"));
            }
            if (request.ContentLength is { } declared && declared != parsed.Length)
            {
                return (0, Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.SIZE_INVALID,
                    $"Content-Length {declared} does not match Content-Range {parsed.Start}-{parsed.End} ({parsed.Length} bytes)"));
            }
            range = parsed;
        }
        if (range is null && request.ContentLength == 0)
        {
            // Nothing to append (the usual commit without a last chunk): no write, no fsync.
            return uploads.Get(id) is { } session ? (session.Size, null) : (0, UnknownUpload(id));
        }
        var body = range is { } r ? new ExactLengthStream(request.Body, r.Length) : request.Body;
        UploadAppendResult result;
        try
        {
            result = await uploads.AppendAsync(id, body, range?.Start, maxLength: null, cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            return (0, Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.SIZE_INVALID, ex.Message));
        }
        return result.Error switch
        {
            UploadAppendError.None => (result.Size, null),
            UploadAppendError.RangeInvalid => (0, RangeInvalid(context, name, id,
                $"the chunk starts at {range?.Start}, but the upload holds {result.Size} bytes; send the chunk starting at {result.Size}")),
            _ => (0, UnknownUpload(id)),
        };
    }

    private async Task<IResult> CommitAsync(HttpContext context, string name, string id, long size, Digest digest, CancellationToken cancellationToken)
    {
        var actual = await uploads.ComputeDigestAsync(id, cancellationToken);
        if (actual != digest)
        {
            // The bytes can never become this blob; drop them (as distribution does) so nothing of them lingers.
            uploads.Delete(id);
            Log.UploadDigestMismatch(logger, name, digest, actual);
            metrics.UploadRefused();
            return Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.DIGEST_INVALID,
                $"the uploaded bytes have digest {actual}, not {digest}; the upload was discarded", Answers.DigestDetail(digest.ToString()));
        }
        // The owner verifies the bytes again before it acknowledges; the link makes the blob visible, so it comes last.
        await origins.UploadAsync(digest, () => uploads.OpenRead(id), size, name, cancellationToken);
        await buildIndex.PutBlobLinkAsync(name, digest, cancellationToken);
        uploads.Delete(id);
        Log.BlobCommitted(logger, name, digest, size);
        metrics.BlobPushed(size);
        return Created(context, name, digest);
    }

    private static IResult Created(HttpContext context, string name, Digest digest)
    {
        var response = context.Response;
        response.Headers.Location = $"/v2/{name}/blobs/{digest}";
        response.Headers[RegistryResponses.DigestHeader] = digest.ToString();
        response.ContentLength = 0;
        return Results.StatusCode(StatusCodes.Status201Created);
    }

    private static IResult Started(HttpContext context, string name, UploadSession session)
    {
        SetSessionHeaders(context.Response, name, session.Id, session.Size);
        context.Response.ContentLength = 0;
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static void SetSessionHeaders(HttpResponse response, string name, string id, long size)
    {
        response.Headers.Location = $"/v2/{name}/blobs/uploads/{id}";
        response.Headers["Docker-Upload-UUID"] = id;
        response.Headers["Range"] = Answers.UploadRange(size);
    }

    private IResult RangeInvalid(HttpContext context, string name, string id, string message)
    {
        // Tell the client where the session stands so it can resume from there.
        SetSessionHeaders(context.Response, name, id, uploads.Get(id)?.Size ?? 0);
        return Answers.Error(StatusCodes.Status416RangeNotSatisfiable, RegistryErrorCode.RANGE_INVALID, message);
    }

    private static IResult UnknownUpload(string id)
        => Answers.Error(StatusCodes.Status404NotFound, RegistryErrorCode.BLOB_UPLOAD_UNKNOWN,
            $"upload '{Answers.Truncate(id)}' is unknown in this repository (never started, finished, cancelled or expired)");
}
