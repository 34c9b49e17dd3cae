using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.Hosting.Registry;

/// <summary>
/// Writes blob and manifest responses the way registry clients expect: <c>Docker-Content-Digest</c>,
/// <c>ETag</c>, <c>Accept-Ranges</c>, single-range <c>206</c> / <c>416</c>, and headers without a body for HEAD.
/// Shared by the proxy and the agent.
/// </summary>
public static class RegistryResponses
{
    /// <summary>The header carrying a content digest.</summary>
    public const string DigestHeader = "Docker-Content-Digest";

    /// <summary>Opens <paramref name="count"/> bytes of a blob starting at <paramref name="offset"/>.</summary>
    public delegate Task<Stream> BlobOpener(long offset, long count, CancellationToken cancellationToken);

    /// <summary>Serves a blob of <paramref name="length"/> bytes, honouring HEAD and a single Range.</summary>
    public static async Task ServeBlobAsync(HttpContext context, Digest digest, long length, BlobOpener open, string contentType = "application/octet-stream")
    {
        var response = context.Response;
        response.Headers[DigestHeader] = digest.ToString();
        response.Headers.ETag = $"\"{digest}\"";
        response.Headers.AcceptRanges = "bytes";
        response.ContentType = contentType;
        var outcome = HttpRange.Resolve(context.Request.Headers.Range, length, out var offset, out var count);
        switch (outcome)
        {
            case HttpRange.Outcome.Unsatisfiable:
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{length}";
                response.ContentLength = 0;
                return;
            case HttpRange.Outcome.Partial:
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = new ContentRangeHeaderValue(offset, offset + count - 1, length).ToString();
                break;
            default:
                response.StatusCode = StatusCodes.Status200OK;
                break;
        }
        response.ContentLength = count;
        if (HttpMethods.IsHead(context.Request.Method) || count == 0)
        {
            return;
        }
        var cancellationToken = context.RequestAborted;
        await using var stream = await open(offset, count, cancellationToken);
        await CopyExactlyAsync(stream, response.BodyWriter, count, cancellationToken);
    }

    /// <summary>Serves manifest bytes with their media type and digest.</summary>
    public static async Task ServeManifestAsync(HttpContext context, Digest digest, string mediaType, ReadOnlyMemory<byte> content)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = mediaType;
        response.ContentLength = content.Length;
        response.Headers[DigestHeader] = digest.ToString();
        response.Headers.ETag = $"\"{digest}\"";
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(content, context.RequestAborted);
        }
    }

    /// <summary>
    /// Whether a client that sent these <c>Accept</c> headers takes <paramref name="mediaType"/>. Repeated
    /// headers and comma-separated lists both count; no Accept header, <c>*/*</c> or <c>application/*</c> take anything.
    /// </summary>
    public static bool Accepts(HttpRequest request, string mediaType)
    {
        var values = request.Headers.Accept;
        if (values.Count == 0)
        {
            return true;
        }
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }
            foreach (var part in value.Split(','))
            {
                var type = part.Split(';')[0].Trim();
                if (type.Length == 0 || type == "*/*" || type == "application/*" || string.Equals(type, mediaType, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>
    /// Copies exactly <paramref name="count"/> bytes into <paramref name="destination"/>'s own buffers
    /// (the server's response pipe), without a copy buffer in between; a short source is an error.
    /// </summary>
    public static async Task CopyExactlyAsync(Stream source, PipeWriter destination, long count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        var remaining = count;
        while (remaining > 0)
        {
            var memory = destination.GetMemory((int)Math.Min(StreamBuffers.CopyBufferSize, remaining));
            var read = await source.ReadAsync(memory[..(int)Math.Min(memory.Length, remaining)], cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException($"blob source ended {remaining} bytes early");
            }
            destination.Advance(read);
            remaining -= read;
            var flushed = await destination.FlushAsync(cancellationToken);
            if (flushed.IsCanceled || (flushed.IsCompleted && remaining > 0))
            {
                throw new OperationCanceledException("the client stopped reading", cancellationToken);
            }
        }
    }
}
