using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Hosting.Registry;

namespace Shoal.Proxy.Internal;

/// <summary>
/// <c>GET|HEAD|DELETE /v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>. A repository serves only the blobs
/// linked to it in build-index; the bytes stream from the origins, the client's Range passed through.
/// </summary>
internal sealed class BlobHandlers(OriginCluster origins, BuildIndexClient buildIndex, ILogger<BlobHandlers> logger)
{
    public async Task<IResult> GetAsync(string name, string reference, CancellationToken cancellationToken)
    {
        if (!Answers.TryParseDigest(reference, "blob digest", out var digest, out var problem))
        {
            return problem;
        }
        if (!await buildIndex.HasBlobLinkAsync(name, digest, cancellationToken))
        {
            return Unknown(name, digest);
        }
        return new BlobResult(origins, name, digest);
    }

    public async Task<IResult> DeleteAsync(string name, string reference, CancellationToken cancellationToken)
    {
        if (!Answers.TryParseDigest(reference, "blob digest", out var digest, out var problem))
        {
            return problem;
        }
        if (!await buildIndex.DeleteBlobLinkAsync(name, digest, cancellationToken))
        {
            return Unknown(name, digest);
        }
        Log.Deleted(logger, "blob", name, digest.ToString());
        return Results.Accepted();
    }

    /// <summary>404 BLOB_UNKNOWN.</summary>
    public static IResult Unknown(string name, Digest digest, string? why = null)
        => Answers.Error(StatusCodes.Status404NotFound, RegistryErrorCode.BLOB_UNKNOWN,
            why ?? $"blob {digest} is not in repository '{name}'", Answers.DigestDetail(digest.ToString()));

    /// <summary>
    /// Streams the blob. Without a Range header one origin request does it all (its answer carries
    /// the length); HEAD and ranged GETs stat the blob first, so 206 / 416 are decided on the real
    /// length, then ask the origin for exactly the bytes to send.
    /// </summary>
    private sealed class BlobResult(OriginCluster origins, string name, Digest digest) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var cancellationToken = context.RequestAborted;
            var request = context.Request;
            if (HttpMethods.IsHead(request.Method) || !string.IsNullOrEmpty(request.Headers.Range))
            {
                var length = await origins.StatAsync(digest, name, cancellationToken);
                if (length is null)
                {
                    await Missing(context);
                    return;
                }
                OriginBlob? opened = null;
                try
                {
                    await RegistryResponses.ServeBlobAsync(context, digest, length.Value, async (offset, count, token) =>
                    {
                        opened = await origins.OpenReadAsync(digest, name, new ByteRange(offset, offset + count - 1), token)
                            ?? throw new ServiceException($"the origins lost {digest} while it was being served");
                        if (opened.Offset != offset || opened.ContentLength is { } got && got != count)
                        {
                            throw new ServiceException($"an origin answered {opened.ContentLength} bytes at {opened.Offset} of {digest} for {count} at {offset}");
                        }
                        return opened.Content;
                    });
                }
                finally
                {
                    if (opened is not null)
                    {
                        await opened.DisposeAsync();
                    }
                }
                return;
            }

            await using var blob = await origins.OpenReadAsync(digest, name, range: null, cancellationToken);
            if (blob is null)
            {
                await Missing(context);
                return;
            }
            await RegistryResponses.ServeBlobAsync(context, digest, blob.TotalLength, (_, _, _) => Task.FromResult(blob.Content));
        }

        private Task Missing(HttpContext context)
            => Unknown(name, digest, $"blob {digest} is linked to repository '{name}' but no origin has its bytes").ExecuteAsync(context);
    }
}
