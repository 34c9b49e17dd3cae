using Microsoft.AspNetCore.Http;

namespace Shoal.Origin.Internal;

/// <summary>
/// Turns a malformed request body (short of its Content-Length, bad chunking) into a 400 and a
/// client that went away mid-request into silence, instead of unhandled-exception noise. (A full
/// disk is answered 507 by every component alike, see Shoal.Hosting's DiskFullAnswers.)
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
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
    }
}
