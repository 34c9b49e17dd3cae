using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core.Registry;
using Shoal.Hosting.Registry;

namespace Shoal.Proxy.Internal;

/// <summary>
/// The one entry point of <c>/v2/…</c>: parses the path (repository names contain slashes, so
/// <see cref="RegistryRoute"/> reads it from the end), validates the repository name, hands the
/// request to its handler, and turns upstream failures (origins or build-index unreachable or
/// failing) into <c>503 UNAVAILABLE</c> registry errors instead of unhandled exceptions.
/// </summary>
internal sealed class RegistryDispatcher(
    BlobHandlers blobs,
    UploadHandlers uploads,
    ManifestHandlers manifests,
    ListingHandlers listings,
    OriginCluster origins,
    BuildIndexClient buildIndex,
    ILogger<RegistryDispatcher> logger)
{
    /// <summary>The header every registry answer carries.</summary>
    public const string ApiVersionHeader = "Docker-Distribution-API-Version";

    /// <summary>Its value.</summary>
    public const string ApiVersion = "registry/2.0";

    /// <summary>Middleware: stamps <see cref="ApiVersionHeader"/> on every response.</summary>
    public static Task AddApiVersionHeader(HttpContext context, RequestDelegate next)
    {
        context.Response.Headers[ApiVersionHeader] = ApiVersion;
        return next(context);
    }

    /// <summary>Handles one <c>/v2/…</c> request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        try
        {
            var result = await DispatchAsync(context, RegistryRoute.Parse(context.Request.Path.Value), cancellationToken);
            await result.ExecuteAsync(context);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer. Upload sessions stay at their last whole chunk.
        }
        catch (BadHttpRequestException ex)
        {
            // The request body could not be read (shorter than its Content-Length, too large, malformed chunking).
            var code = ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? RegistryErrorCode.SIZE_INVALID : RegistryErrorCode.BLOB_UPLOAD_INVALID;
            await FailAsync(context, ex.StatusCode, code, "the request body could not be read: " + ex.Message);
        }
        catch (Exception ex) when (IsUpstreamFailure(ex))
        {
            var (status, message) = Describe(ex);
            Log.UpstreamFailed(logger, context.Request.Method, context.Request.Path.Value ?? "", message, ex);
            await FailAsync(context, status, RegistryErrorCode.UNAVAILABLE, message);
        }
    }

    /// <summary>Readiness: build-index and at least one origin answer.</summary>
    public async Task<string?> CheckReadinessAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (!await buildIndex.IsReadyAsync(cancellationToken))
        {
            return $"build-index at {buildIndex.BaseAddress} is not ready";
        }
        foreach (var origin in origins.All)
        {
            if (await origin.IsReadyAsync(cancellationToken))
            {
                return null;
            }
        }
        return "no origin is ready: " + string.Join(", ", origins.All.Select(o => o.BaseAddress));
    }

    private async Task<IResult> DispatchAsync(HttpContext context, RegistryRoute route, CancellationToken cancellationToken)
    {
        var method = context.Request.Method;
        switch (route.Kind)
        {
            case RegistryRouteKind.None:
                return Answers.Error(StatusCodes.Status404NotFound, RegistryErrorCode.UNSUPPORTED,
                    $"'{Answers.Truncate(context.Request.Path.Value)}' is not a registry API path");
            case RegistryRouteKind.Base:
                return IsGetOrHead(method)
                    ? Results.Text("{}", "application/json", statusCode: StatusCodes.Status200OK)
                    : NotAllowed(context, "GET, HEAD");
            case RegistryRouteKind.Catalog:
                return HttpMethods.IsGet(method) ? await listings.CatalogAsync(context, cancellationToken) : NotAllowed(context, "GET");
        }

        var name = route.Name;
        if (!RepositoryName.IsValid(name, out var error))
        {
            return Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.NAME_INVALID, error,
                new Dictionary<string, string>(StringComparer.Ordinal) { ["name"] = Answers.Truncate(name) });
        }
        var reference = route.Reference ?? string.Empty;
        return route.Kind switch
        {
            RegistryRouteKind.TagsList when HttpMethods.IsGet(method) => await listings.TagsAsync(context, name, cancellationToken),
            RegistryRouteKind.TagsList => NotAllowed(context, "GET"),

            RegistryRouteKind.Manifest when IsGetOrHead(method) => await manifests.GetAsync(context, name, reference, cancellationToken),
            RegistryRouteKind.Manifest when HttpMethods.IsPut(method) => await manifests.PutAsync(context, name, reference, cancellationToken),
            RegistryRouteKind.Manifest when HttpMethods.IsDelete(method) => await manifests.DeleteAsync(name, reference, cancellationToken),
            RegistryRouteKind.Manifest => NotAllowed(context, "GET, HEAD, PUT, DELETE"),

            RegistryRouteKind.Blob when IsGetOrHead(method) => await blobs.GetAsync(name, reference, cancellationToken),
            RegistryRouteKind.Blob when HttpMethods.IsDelete(method) => await blobs.DeleteAsync(name, reference, cancellationToken),
            RegistryRouteKind.Blob => NotAllowed(context, "GET, HEAD, DELETE"),

            RegistryRouteKind.UploadStart when HttpMethods.IsPost(method) => await uploads.StartAsync(context, name, cancellationToken),
            RegistryRouteKind.UploadStart => NotAllowed(context, "POST"),

            RegistryRouteKind.Upload when HttpMethods.IsGet(method) => uploads.Status(context, name, reference),
            RegistryRouteKind.Upload when HttpMethods.IsPatch(method) => await uploads.AppendAsync(context, name, reference, cancellationToken),
            RegistryRouteKind.Upload when HttpMethods.IsPut(method) => await uploads.CompleteAsync(context, name, reference, cancellationToken),
            RegistryRouteKind.Upload when HttpMethods.IsDelete(method) => await uploads.CancelAsync(name, reference, cancellationToken),
            RegistryRouteKind.Upload => NotAllowed(context, "GET, PATCH, PUT, DELETE"),

            // The referrers API is not implemented yet. A 404 is what the OCI spec tells clients to read
            // as "unsupported": they fall back to the referrers tag schema (sha256-<hex> tags), which works here.
            RegistryRouteKind.Referrers => Answers.Error(StatusCodes.Status404NotFound, RegistryErrorCode.UNSUPPORTED,
                "the referrers API is not supported by this registry; use the referrers tag schema"),

            _ => Answers.Error(StatusCodes.Status404NotFound, RegistryErrorCode.UNSUPPORTED, "not a registry API path"),
        };
    }

    private static bool IsGetOrHead(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

    private static IResult NotAllowed(HttpContext context, string allowed)
    {
        context.Response.Headers.Allow = allowed;
        return Answers.Error(StatusCodes.Status405MethodNotAllowed, RegistryErrorCode.UNSUPPORTED,
            $"{context.Request.Method} is not allowed here; allowed: {allowed}");
    }

    /// <summary>Failures of the services behind the proxy (and of its own disk), as opposed to bugs.</summary>
    private static bool IsUpstreamFailure(Exception ex)
        => ex is ServiceException or HttpRequestException or TaskCanceledException or IOException or JsonException or UnauthorizedAccessException;

    private static (int Status, string Message) Describe(Exception ex) => ex switch
    {
        // Upstream refused a request the proxy validated: a disagreement between services, not the client's fault.
        ServiceException { StatusCode: >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError } s
            => (StatusCodes.Status502BadGateway, s.Message),
        ServiceException s => (StatusCodes.Status503ServiceUnavailable, s.Message),
        HttpRequestException h => (StatusCodes.Status503ServiceUnavailable, "an upstream service is unreachable: " + h.Message),
        TaskCanceledException => (StatusCodes.Status503ServiceUnavailable, "an upstream service did not answer in time"),
        JsonException => (StatusCodes.Status502BadGateway, "an upstream service answered malformed JSON"),
        EndOfStreamException e => (StatusCodes.Status503ServiceUnavailable, "an upstream transfer broke off: " + e.Message),
        _ => (StatusCodes.Status503ServiceUnavailable, "the proxy could not complete the request (storage or network failure)"),
    };

    private static async Task FailAsync(HttpContext context, int status, RegistryErrorCode code, string message)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            // Headers (and maybe part of a blob) are out: cut the connection so the client sees a broken transfer, not a short success.
            context.Abort();
            return;
        }
        response.Clear();
        response.Headers[ApiVersionHeader] = ApiVersion;
        await RegistryErrors.WriteAsync(context, status, code, message);
    }
}
