using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Agent.Internal;

/// <summary>
/// <c>POST /v1/preload</c> with <c>{"repository": "…", "reference": "tag|digest"?, "blobs": ["sha256:…"]?}</c>:
/// pulls the named blobs — and, with a reference, the image's manifests (every platform of an index)
/// and their config and layers, resolved through build-index — into the agent's cache through the
/// normal download path (peers, then origins). The proxy's preheat calls it for scope <c>all_peers</c>.
/// 200 when every blob is cached; 400 for bad input; 502 naming the blobs no source had.
/// </summary>
internal static class PreloadEndpoint
{
    private const int MaxBody = 1024 * 1024;
    private const int Parallelism = 4;

    public static async Task<IResult> HandleAsync(HttpContext context, BlobCache cache, BuildIndexClient buildIndex)
    {
        var cancellationToken = context.RequestAborted;
        string repository;
        string? reference;
        var digests = new List<Digest>();
        try
        {
            using var document = await JsonDocument.ParseAsync(new LimitedStream(context.Request.Body, MaxBody), cancellationToken: cancellationToken);
            var root = document.RootElement;
            repository = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("repository", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : string.Empty;
            reference = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("reference", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("blobs", out var blobs) && blobs.ValueKind == JsonValueKind.Array)
            {
                foreach (var blob in blobs.EnumerateArray())
                {
                    if (blob.ValueKind != JsonValueKind.String || !Digest.TryParse(blob.GetString(), out var digest, out var error))
                    {
                        return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: $"blobs: '{blob}' is not a sha256 digest");
                    }
                    digests.Add(digest);
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "body is not a preload request: " + ex.Message);
        }
        if (!RepositoryName.IsValid(repository, out var nameError))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: $"repository: {nameError}");
        }
        if (reference is null && digests.Count == 0)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "give a reference, blobs, or both");
        }
        try
        {
            if (reference is not null)
            {
                if (await ResolveImageAsync(cache, buildIndex, repository, reference, cancellationToken) is { } image)
                {
                    digests.AddRange(image);
                }
                else
                {
                    return Results.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"{repository}:{reference} is not in build-index or its manifests are in no origin");
                }
            }
        }
        catch (Exception ex) when (ex is ServiceException or HttpRequestException or InvalidDataException)
        {
            return Results.Problem(statusCode: StatusCodes.Status502BadGateway, detail: ex.Message);
        }
        var missing = new ConcurrentBag<Digest>();
        await Parallel.ForEachAsync(digests.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (digest, ct) =>
        {
            if (!await cache.EnsureAsync(new BlobRequest(digest, repository, null), ct))
            {
                missing.Add(digest);
            }
        });
        return missing.IsEmpty
            ? Results.Json(new Dictionary<string, object> { ["repository"] = repository, ["blobs"] = digests.Distinct().Select(d => d.ToString()).ToArray() }, AgentPreloadJsonContext.Default.DictionaryStringObject)
            : Results.Problem(statusCode: StatusCodes.Status502BadGateway, detail: $"no peer or origin has {string.Join(", ", missing)}");
    }

    /// <summary>The manifests of the image and every blob they reference, each manifest cached on the way; null when unknown.</summary>
    private static async Task<List<Digest>?> ResolveImageAsync(BlobCache cache, BuildIndexClient buildIndex, string repository, string reference, CancellationToken cancellationToken)
    {
        Digest top;
        if (Digest.LooksLikeDigest(reference))
        {
            if (!Digest.TryParse(reference, out top, out var error))
            {
                throw new InvalidDataException(error);
            }
        }
        else if (await buildIndex.GetTagAsync(repository, reference, cancellationToken) is { } tagged)
        {
            top = tagged;
        }
        else
        {
            return null;
        }
        var result = new List<Digest>();
        var pending = new Queue<Digest>([top]);
        while (pending.TryDequeue(out var digest))
        {
            var record = await buildIndex.GetManifestAsync(repository, digest, cancellationToken);
            using var lease = cache.Lease(digest);
            if (record is null || !await cache.EnsureAsync(new BlobRequest(digest, repository, null), cancellationToken))
            {
                return null;
            }
            result.Add(digest);
            await using var file = cache.Store.OpenRead(digest) ?? throw new InvalidDataException($"{digest} left the store");
            if (file.Length > ManifestDocument.MaxSize)
            {
                throw new InvalidDataException($"manifest {digest} is larger than {ManifestDocument.MaxSize} bytes");
            }
            var bytes = new byte[file.Length];
            await file.ReadExactlyAsync(bytes, cancellationToken);
            if (!ManifestDocument.TryParse(bytes, record.MediaType, out var manifest, out var parseError))
            {
                throw new InvalidDataException($"manifest {digest}: {parseError}");
            }
            foreach (var child in manifest!.Manifests)
            {
                pending.Enqueue(child.Digest);
            }
            result.AddRange(manifest.Blobs.Select(b => b.Digest));
        }
        return result;
    }

    /// <summary>Reads at most <c>limit</c> bytes of a request body, failing beyond.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            _read += n;
            return _read > limit ? throw new InvalidDataException($"body is larger than {limit} bytes") : n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class AgentPreloadJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
