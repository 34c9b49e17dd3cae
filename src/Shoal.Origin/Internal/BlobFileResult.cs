using Microsoft.AspNetCore.Http;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.Hosting.Registry;

namespace Shoal.Origin.Internal;

/// <summary>Serves an open cached blob (HEAD, Range → 206 / 416) and counts the bytes sent.</summary>
internal sealed class BlobFileResult : IResult
{
    private readonly Digest _digest;
    private readonly FileStream _stream;
    private readonly OriginMetrics _metrics;
    private readonly BlobLeases.Lease? _lease;

    /// <param name="lease">The blob's in-use lease, released once the answer is sent.</param>
    public BlobFileResult(Digest digest, FileStream stream, OriginMetrics metrics, BlobLeases.Lease? lease)
    {
        _digest = digest;
        _stream = stream;
        _metrics = metrics;
        _lease = lease;
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var lease = _lease;
        await using var stream = _stream;
        try
        {
            // The length comes from the handle already open, so a concurrent delete cannot shorten the answer.
            await RegistryResponses.ServeBlobAsync(httpContext, _digest, stream.Length, (offset, _, _) =>
            {
                stream.Position = offset;
                return Task.FromResult<Stream>(stream);
            });
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return; // the client went away
        }
        var response = httpContext.Response;
        if (HttpMethods.IsGet(httpContext.Request.Method) && response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent)
        {
            _metrics.BytesServed.Add(response.ContentLength ?? 0);
        }
    }
}
