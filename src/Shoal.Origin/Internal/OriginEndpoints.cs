using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Shoal.Origin.Internal;

/// <summary>The origin's HTTP routes (the contract is <c>Shoal.Clients.Origin.OriginClient</c>).</summary>
internal static class OriginEndpoints
{
    public static void MapOriginEndpoints(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").AddEndpointFilter<RequestFailureFilter>();

        v1.MapMethods("/blobs/{digest}", [HttpMethods.Get, HttpMethods.Head],
            (HttpContext context, string digest, BlobHandlers blobs) => blobs.GetAsync(context, digest));
        v1.MapGet("/blobs/{digest}/metainfo",
            (HttpContext context, string digest, BlobHandlers blobs) => blobs.GetMetaInfoAsync(context, digest));
        v1.MapPut("/blobs/{digest}",
            (HttpContext context, string digest, BlobHandlers blobs) => blobs.PutAsync(context, digest));
        v1.MapPost("/blobs/{digest}/mount",
            (HttpContext context, string digest, BlobHandlers blobs) => blobs.MountAsync(context, digest));
        v1.MapDelete("/blobs/{digest}",
            (string digest, BlobHandlers blobs) => blobs.Delete(digest));

        v1.MapPost("/uploads",
            (HttpContext context, UploadHandlers uploads) => uploads.Start(context));
        v1.MapMethods("/uploads/{id}", [HttpMethods.Patch],
            (HttpContext context, string id, UploadHandlers uploads) => uploads.AppendAsync(context, id));
        v1.MapGet("/uploads/{id}",
            (HttpContext context, string id, UploadHandlers uploads) => uploads.Get(context, id));
        v1.MapPut("/uploads/{id}",
            (HttpContext context, string id, UploadHandlers uploads) => uploads.CommitAsync(context, id));
        v1.MapDelete("/uploads/{id}",
            (string id, UploadHandlers uploads) => uploads.Cancel(id));

        v1.MapGet("/writeback", async (HttpContext context, WriteBackQueue queue) =>
        {
            var limit = 1000;
            if (context.Request.Query["limit"].FirstOrDefault() is { } value
                && (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 10_000))
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "invalid limit", $"limit must be between 1 and 10000, not '{value}'");
            }
            var tasks = await queue.ListAsync(limit, context.RequestAborted);
            return Results.Json(new WriteBackListing(queue.Depth, tasks), WriteBackJsonContext.Default.WriteBackListing);
        });
    }
}
