using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Store;

namespace Shoal.Origin.Internal;

/// <summary>
/// The <c>/v1/uploads</c> API: resumable chunked uploads. <c>POST</c> starts a session,
/// <c>PATCH</c> appends a chunk, <c>GET</c> reports progress, <c>PUT ?digest=</c> verifies and
/// commits (with an optional last chunk), <c>DELETE</c> cancels.
/// </summary>
internal sealed class UploadHandlers
{
    private readonly UploadStore _uploads;
    private readonly BlobStore _store;
    private readonly CommitFollowUp _followUp;
    private readonly ILogger _logger;

    public UploadHandlers(UploadStore uploads, BlobStore store, CommitFollowUp followUp, ILogger<UploadHandlers> logger)
    {
        _uploads = uploads;
        _store = store;
        _followUp = followUp;
        _logger = logger;
    }

    /// <summary><c>POST /v1/uploads?namespace=</c> → 202, Location and <c>{"id"}</c>.</summary>
    public IResult Start(HttpContext context)
    {
        if (!Problems.TryGetNamespace(context.Request, out var ns, out var problem))
        {
            return problem;
        }
        var session = _uploads.Start(ns);
        context.Response.Headers.Location = Location(session.Id);
        return Status(context, StatusCodes.Status202Accepted, session.Id, 0);
    }

    /// <summary><c>PATCH /v1/uploads/{id}</c> → 202 with the received range.</summary>
    public async Task<IResult> AppendAsync(HttpContext context, string id)
    {
        if (_uploads.Get(id) is null)
        {
            return UnknownUpload(id);
        }
        var appended = await AppendBodyAsync(context, id);
        if (appended.Problem is { } problem)
        {
            return problem;
        }
        context.Response.Headers.Location = Location(id);
        return Status(context, StatusCodes.Status202Accepted, id, appended.Size);
    }

    /// <summary><c>GET /v1/uploads/{id}</c> → 204 with the received range.</summary>
    public IResult Get(HttpContext context, string id)
    {
        if (_uploads.Get(id) is not { } session)
        {
            return UnknownUpload(id);
        }
        context.Response.Headers.Location = Location(id);
        context.Response.Headers.Range = RangeOf(session.Size);
        return Results.NoContent();
    }

    /// <summary><c>PUT /v1/uploads/{id}?digest=&amp;replicate=</c> → 201 once the bytes match the digest.</summary>
    public async Task<IResult> CommitAsync(HttpContext context, string id)
    {
        var request = context.Request;
        if (_uploads.Get(id) is not { } session)
        {
            return UnknownUpload(id);
        }
        var value = request.Query["digest"].FirstOrDefault();
        if (string.IsNullOrEmpty(value))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid digest", "the digest query parameter is required");
        }
        if (!Problems.TryParseDigest(value, out var digest, out var problem) || !Problems.TryGetReplicate(request, out var replicate, out problem))
        {
            return problem;
        }
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            var appended = await AppendBodyAsync(context, id);
            if (appended.Problem is not null)
            {
                return appended.Problem;
            }
        }
        var cancellationToken = context.RequestAborted;
        BlobCommitResult commit;
        try
        {
            commit = await _uploads.CommitAsync(id, digest, _store, cancellationToken);
        }
        catch (DigestMismatchException ex)
        {
            // The session stays, so the client can append what is missing or cancel.
            Log.UploadRefused(_logger, digest, ex.Message);
            return Problems.Create(StatusCodes.Status400BadRequest, "digest mismatch", ex.Message);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return UnknownUpload(id); // cancelled or purged meanwhile
        }
        if (await _followUp.CompleteAsync(commit, session.Repository, replicate, cancellationToken) is { } failed)
        {
            return failed;
        }
        return BlobHandlers.Created(context, digest);
    }

    /// <summary><c>DELETE /v1/uploads/{id}</c> → 204.</summary>
    public IResult Cancel(string id) => _uploads.Delete(id) ? Results.NoContent() : UnknownUpload(id);

    private async Task<(long Size, IResult? Problem)> AppendBodyAsync(HttpContext context, string id)
    {
        var request = context.Request;
        long? offset = null;
        long? maxLength = null;
        var header = request.Headers.ContentRange.ToString();
        if (!string.IsNullOrEmpty(header))
        {
            if (!ContentRange.TryParse(header, out var start, out var end))
            {
                return (0, Problems.Create(StatusCodes.Status400BadRequest, "invalid Content-Range", $"Content-Range '{header}' is not start-end"));
            }
            offset = start;
            maxLength = end - start + 1;
            if (request.ContentLength is { } length && length != maxLength)
            {
                return (0, Problems.Create(StatusCodes.Status400BadRequest, "invalid Content-Range",
                    $"Content-Range '{header}' covers {maxLength} bytes but Content-Length is {length}"));
            }
        }
        var result = await _uploads.AppendAsync(id, request.Body, offset, maxLength, context.RequestAborted);
        switch (result.Error)
        {
            case UploadAppendError.None:
                return (result.Size, null);
            case UploadAppendError.RangeInvalid:
                context.Response.Headers.Range = RangeOf(result.Size);
                return (0, Problems.Create(StatusCodes.Status416RangeNotSatisfiable, "chunk out of order",
                    $"the chunk starts at {offset} but the upload has {result.Size} bytes"));
            case UploadAppendError.TooLarge:
                return (0, Problems.Create(StatusCodes.Status400BadRequest, "chunk too long", $"the chunk is longer than its Content-Range '{header}'"));
            default:
                return (0, UnknownUpload(id));
        }
    }

    private static IResult Status(HttpContext context, int status, string id, long size)
    {
        context.Response.Headers.Range = RangeOf(size);
        return Results.Json(new UploadStatus(id, size), OriginJsonContext.Default.UploadStatus, statusCode: status);
    }

    /// <summary>The registry convention: <c>0-(size-1)</c>, and <c>0-0</c> for an empty upload.</summary>
    private static string RangeOf(long size) => "0-" + Math.Max(0, size - 1).ToString(CultureInfo.InvariantCulture);

    private static string Location(string id) => "/v1/uploads/" + id;

    private static IResult UnknownUpload(string id)
        => Problems.Create(StatusCodes.Status404NotFound, "upload unknown",
            UploadStore.IsValidId(id) ? $"upload {id} does not exist (finished, cancelled or expired)" : "malformed upload id");
}
