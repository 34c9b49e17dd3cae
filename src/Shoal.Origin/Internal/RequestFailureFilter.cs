using Microsoft.AspNetCore.Http;
using Shoal.Core.IO;

namespace Shoal.Origin.Internal;

/// <summary>
/// Turns a malformed request body (short of its Content-Length, bad chunking) into a 400, a full
/// disk into a 507 (the blob was not stored; the writer removed what it had written), and a client
/// that went away mid-request into silence, instead of unhandled-exception noise.
/// </summary>
internal sealed class RequestFailureFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (BadHttpRequestException ex)
        {
            return Problems.Create(ex.StatusCode, "bad request", ex.Message);
        }
        catch (IOException ex) when (DiskFull.Is(ex) && !context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Problems.Create(StatusCodes.Status507InsufficientStorage, "insufficient storage", "the origin's disk is full: " + ex.Message);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
    }
}
