using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.Core.Registry;
using Shoal.Hosting.Registry;

namespace Shoal.Proxy.Internal;

/// <summary>
/// <c>GET|HEAD|PUT|DELETE /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>. The bytes of a manifest are a
/// blob in the origins (content addressed by their digest); build-index records the revision
/// (digest → media type, size), its blob link and the tags that point at it.
/// </summary>
/// <remarks>
/// Content negotiation: Shoal stores a manifest exactly as pushed and never converts it. A GET or
/// HEAD whose <c>Accept</c> headers exclude the stored media type is answered 404 MANIFEST_UNKNOWN
/// with a message naming the type that exists — what distribution does for an index a client
/// cannot take — rather than bytes the client said it cannot parse.
/// </remarks>
internal sealed class ManifestHandlers(OriginCluster origins, BuildIndexClient buildIndex, ProxyOptions options, ProxyMetrics metrics, ILogger<ManifestHandlers> logger)
{
    /// <summary>Manifests recorded with a size above this are treated as corrupt records (the largest configurable push size).</summary>
    private const long MaxRecordedSize = 64 * 1024 * 1024;

    /// <summary><c>PUT /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>.</summary>
    public async Task<IResult> PutAsync(HttpContext context, string name, string reference, CancellationToken cancellationToken)
    {
        if (!Answers.TryParseReference(reference, out var pinned, out var problem))
        {
            return problem;
        }
        var request = context.Request;
        var max = options.MaxManifestSize;
        var bytes = request.ContentLength > max ? null : await ReadAtMostAsync(request.Body, max, cancellationToken);
        if (bytes is null)
        {
            return Answers.Error(StatusCodes.Status413PayloadTooLarge, RegistryErrorCode.MANIFEST_INVALID,
                $"the manifest is larger than {max} bytes, the most this registry accepts");
        }
        if (!ManifestDocument.TryParse(bytes, request.ContentType, out var manifest, out var error) || manifest is null)
        {
            return Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.MANIFEST_INVALID, error ?? "the manifest is invalid");
        }
        var digest = Digest.Compute(bytes);
        if (pinned is { } expected && expected != digest)
        {
            return Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.DIGEST_INVALID,
                $"the manifest's digest is {digest}, not {expected}", Answers.DigestDetail(expected.ToString()));
        }
        if (await FindMissingAsync(name, manifest, cancellationToken) is { } missing)
        {
            return missing;
        }

        // Bytes first, then the link and the revision, then the tag: whatever is visible is complete.
        await origins.UploadAsync(digest, () => new MemoryStream(bytes, writable: false), bytes.Length, name, cancellationToken);
        await buildIndex.PutBlobLinkAsync(name, digest, cancellationToken);
        await buildIndex.PutManifestAsync(name, digest, new ManifestRecord(manifest.MediaType, bytes.Length), cancellationToken);
        if (pinned is null)
        {
            await buildIndex.PutTagAsync(name, reference, digest, cancellationToken);
        }
        Log.ManifestPushed(logger, name, reference, digest, manifest.MediaType);
        metrics.ManifestPushed();

        var response = context.Response;
        response.Headers.Location = $"/v2/{name}/manifests/{digest}";
        response.Headers[RegistryResponses.DigestHeader] = digest.ToString();
        // No OCI-Subject header even when the manifest has a subject: that header tells clients the
        // referrers API indexed it, and they would then skip the referrers tag that is, while that API
        // answers 404, the only way to find the referrer again.
        response.ContentLength = 0;
        return Results.StatusCode(StatusCodes.Status201Created);
    }

    /// <summary><c>GET|HEAD /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>.</summary>
    public async Task<IResult> GetAsync(HttpContext context, string name, string reference, CancellationToken cancellationToken)
    {
        if (!Answers.TryParseReference(reference, out var pinned, out var problem))
        {
            return problem;
        }
        Digest digest;
        if (pinned is { } byDigest)
        {
            digest = byDigest;
        }
        else if (await buildIndex.GetTagAsync(name, reference, cancellationToken) is { } tagged)
        {
            digest = tagged;
        }
        else
        {
            return Unknown($"repository '{name}' has no tag '{reference}'", reference);
        }
        var record = await buildIndex.GetManifestAsync(name, digest, cancellationToken);
        if (record is null)
        {
            return Unknown($"repository '{name}' has no manifest {digest}", digest.ToString());
        }
        if (!RegistryResponses.Accepts(context.Request, record.MediaType))
        {
            return Unknown($"manifest {digest} exists as {record.MediaType}, which the request's Accept header does not include", digest.ToString());
        }
        if (record.Size is < 0 or > MaxRecordedSize)
        {
            return Corrupt(name, digest, $"its record claims {record.Size} bytes");
        }

        var response = context.Response;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            // HEAD sends no bytes, so the record is enough; GET below verifies what it serves.
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = record.MediaType;
            response.ContentLength = record.Size;
            response.Headers[RegistryResponses.DigestHeader] = digest.ToString();
            response.Headers.ETag = $"\"{digest}\"";
            return Results.Empty;
        }

        await using var blob = await origins.OpenReadAsync(digest, name, range: null, cancellationToken);
        if (blob is null)
        {
            return Corrupt(name, digest, "no origin has its bytes");
        }
        if (blob.TotalLength != record.Size)
        {
            return Corrupt(name, digest, $"the origins hold {blob.TotalLength} bytes, the record says {record.Size}");
        }
        var bytes = new byte[record.Size];
        await blob.Content.ReadExactlyAsync(bytes, cancellationToken);
        var actual = Digest.Compute(bytes);
        if (actual != digest)
        {
            return Corrupt(name, digest, $"the bytes hash to {actual}");
        }
        return new ManifestResult(digest, record.MediaType, bytes);
    }

    /// <summary><c>DELETE /v2/&lt;name&gt;/manifests/&lt;digest|tag&gt;</c>: a digest deletes the revision and its tags, a tag only the tag.</summary>
    public async Task<IResult> DeleteAsync(string name, string reference, CancellationToken cancellationToken)
    {
        if (!Answers.TryParseReference(reference, out var pinned, out var problem))
        {
            return problem;
        }
        if (pinned is { } digest)
        {
            if (!await buildIndex.DeleteManifestAsync(name, digest, cancellationToken))
            {
                return Unknown($"repository '{name}' has no manifest {digest}", reference);
            }
            // The manifest's bytes were linked as a blob when it was pushed; they go with it.
            await buildIndex.DeleteBlobLinkAsync(name, digest, cancellationToken);
            Log.Deleted(logger, "manifest", name, reference);
        }
        else
        {
            if (!await buildIndex.DeleteTagAsync(name, reference, cancellationToken))
            {
                return Unknown($"repository '{name}' has no tag '{reference}'", reference);
            }
            Log.Deleted(logger, "tag", name, reference);
        }
        return Results.Accepted();
    }

    /// <summary>400 MANIFEST_BLOB_UNKNOWN naming the first blob or child manifest the repository does not hold; null when all are there.</summary>
    private async Task<IResult?> FindMissingAsync(string name, ManifestDocument manifest, CancellationToken cancellationToken)
    {
        foreach (var blob in manifest.Blobs.Select(d => d.Digest).Distinct())
        {
            if (!await buildIndex.HasBlobLinkAsync(name, blob, cancellationToken))
            {
                return Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.MANIFEST_BLOB_UNKNOWN,
                    $"the manifest references blob {blob}, which is not in repository '{name}'", Answers.DigestDetail(blob.ToString()));
            }
        }
        foreach (var child in manifest.Manifests.Select(d => d.Digest).Distinct())
        {
            if (await buildIndex.GetManifestAsync(name, child, cancellationToken) is null)
            {
                return Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.MANIFEST_BLOB_UNKNOWN,
                    $"the index references manifest {child}, which is not in repository '{name}'", Answers.DigestDetail(child.ToString()));
            }
        }
        return null;
    }

    private IResult Corrupt(string name, Digest digest, string reason)
    {
        Log.ManifestCorrupt(logger, name, digest, reason);
        return Answers.Error(StatusCodes.Status503ServiceUnavailable, RegistryErrorCode.UNAVAILABLE,
            $"manifest {digest} cannot be served: {reason}", Answers.DigestDetail(digest.ToString()));
    }

    private static IResult Unknown(string message, string reference)
        => Answers.Error(StatusCodes.Status404NotFound, RegistryErrorCode.MANIFEST_UNKNOWN, message,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["reference"] = Answers.Truncate(reference) });

    /// <summary>Reads the whole body, or returns null as soon as it proves longer than <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]?> ReadAtMostAsync(Stream body, int max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk.AsMemory(0, StreamBuffers.CopyBufferSize), cancellationToken)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    return null;
                }
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return buffer.ToArray();
    }

    private sealed class ManifestResult(Digest digest, string mediaType, byte[] bytes) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => RegistryResponses.ServeManifestAsync(httpContext, digest, mediaType, bytes);
    }
}
