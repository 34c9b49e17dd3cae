using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Hosting.Registry;

namespace Shoal.Agent.Internal;

/// <summary>
/// The agent's read-only registry API (<c>/v2/…</c>). Content that does not exist answers 404 with
/// the registry error, so a runtime falls back to its next host; upstreams that cannot answer give
/// 503 <c>UNAVAILABLE</c>; pushes give 405 <c>UNSUPPORTED</c>.
/// </summary>
internal sealed partial class RegistryHandler
{
    /// <summary>The header that tells clients this is a registry (v2 API).</summary>
    public const string ApiVersionHeader = "Docker-Distribution-API-Version";

    /// <summary>Its value.</summary>
    public const string ApiVersion = "registry/2.0";

    private const string PullOnly = "the agent is pull-only; push to the proxy";

    private readonly BlobCache _cache;
    private readonly BuildIndexClient _buildIndex;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger<RegistryHandler> _logger;

    public RegistryHandler(BlobCache cache, BuildIndexClient buildIndex, AgentOptions options, TimeProvider time, ILogger<RegistryHandler> logger)
    {
        _cache = cache;
        _buildIndex = buildIndex;
        _timeout = options.UpstreamTimeout;
        _time = time;
        _logger = logger;
    }

    /// <summary>Handles one request under <c>/v2</c>.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var route = RegistryRoute.Parse(context.Request.Path.Value);
        var request = new AgentRequest(route, UpstreamOf(context.Request));
        context.Features.Set(request);
        Log.Request(_logger, context.Request.Method, route.Kind, route.Name, route.Reference, request.Upstream);

        var method = context.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            await RegistryErrors.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, RegistryErrorCode.UNSUPPORTED, PullOnly);
            return;
        }

        var aborted = context.RequestAborted;
        try
        {
            await (route.Kind switch
            {
                RegistryRouteKind.Base => WriteJsonAsync(context, static _ => { }),
                RegistryRouteKind.Manifest => ManifestAsync(context, request),
                RegistryRouteKind.Blob => BlobAsync(context, request),
                RegistryRouteKind.TagsList => TagsAsync(context, route.Name),
                RegistryRouteKind.UploadStart or RegistryRouteKind.Upload
                    => RegistryErrors.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, RegistryErrorCode.UNSUPPORTED, PullOnly),
                RegistryRouteKind.Catalog
                    => RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.UNSUPPORTED, "the agent does not list repositories"),
                RegistryRouteKind.Referrers
                    => RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.UNSUPPORTED, "the agent does not serve the referrers API"),
                _ => RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.UNSUPPORTED, "not a registry API path"),
            });
        }
        catch (Exception ex) when (Upstream.IsFailure(ex, aborted))
        {
            Log.Unavailable(_logger, context.Request.Method, context.Request.Path.Value, request.Upstream, ex.GetType().Name, ex.Message);
            if (context.Response.HasStarted)
            {
                // Headers are out: the only honest signal left is a broken connection.
                context.Abort();
                return;
            }
            context.Response.Clear();
            context.Response.Headers[ApiVersionHeader] = ApiVersion;
            await RegistryErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RegistryErrorCode.UNAVAILABLE,
                "Shoal cannot serve this now; try the next host", ex.Message);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private async Task ManifestAsync(HttpContext context, AgentRequest request)
    {
        var name = request.Route.Name;
        if (!RepositoryName.IsValid(name, out var nameError))
        {
            await RegistryErrors.WriteAsync(context, StatusCodes.Status400BadRequest, RegistryErrorCode.NAME_INVALID, nameError);
            return;
        }
        var reference = request.Route.Reference!;
        var ct = context.RequestAborted;
        Digest digest;
        if (reference.Contains(':', StringComparison.Ordinal))
        {
            if (!Digest.TryParse(reference, out digest, out var digestError))
            {
                await RegistryErrors.WriteAsync(context, StatusCodes.Status400BadRequest, RegistryErrorCode.DIGEST_INVALID, digestError);
                return;
            }
        }
        else
        {
            if (!RepositoryName.IsValidTag(reference))
            {
                await RegistryErrors.WriteAsync(context, StatusCodes.Status400BadRequest, RegistryErrorCode.TAG_INVALID, $"invalid tag '{Truncate(reference)}'");
                return;
            }
            // Tags move: resolve on every request, never from a cache.
            var resolved = await Upstream.CallAsync(t => _buildIndex.GetTagAsync(name, reference, t), _timeout, _time, ct);
            if (resolved is not { } target)
            {
                await RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.MANIFEST_UNKNOWN, $"tag '{reference}' of {name} is unknown");
                return;
            }
            digest = target;
        }

        var record = await Upstream.CallAsync(t => _buildIndex.GetManifestAsync(name, digest, t), _timeout, _time, ct);
        if (record is null)
        {
            await RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.MANIFEST_UNKNOWN, $"manifest {digest} is unknown in {name}");
            return;
        }
        if (!RegistryResponses.Accepts(context.Request, record.MediaType))
        {
            await RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.MANIFEST_UNKNOWN,
                $"manifest {digest} is a {record.MediaType}, which the request does not accept");
            return;
        }
        if (record.Size > ManifestDocument.MaxSize)
        {
            await RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.MANIFEST_UNKNOWN,
                $"manifest {digest} is larger than {ManifestDocument.MaxSize} bytes");
            return;
        }
        using var lease = _cache.Lease(digest);
        if (!await _cache.EnsureAsync(new BlobRequest(digest, name, request.Upstream), ct))
        {
            await RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.MANIFEST_UNKNOWN, $"manifest {digest} of {name} is in no origin");
            return;
        }
        var content = await ReadManifestAsync(digest, ct);
        await RegistryResponses.ServeManifestAsync(context, digest, record.MediaType, content);
    }

    private async Task BlobAsync(HttpContext context, AgentRequest request)
    {
        var name = request.Route.Name;
        if (!RepositoryName.IsValid(name, out var nameError))
        {
            await RegistryErrors.WriteAsync(context, StatusCodes.Status400BadRequest, RegistryErrorCode.NAME_INVALID, nameError);
            return;
        }
        if (!Digest.TryParse(request.Route.Reference, out var digest, out var digestError))
        {
            await RegistryErrors.WriteAsync(context, StatusCodes.Status400BadRequest, RegistryErrorCode.DIGEST_INVALID, digestError);
            return;
        }
        var ct = context.RequestAborted;
        var blob = new BlobRequest(digest, name, request.Upstream);
        if (HttpMethods.IsHead(context.Request.Method))
        {
            // A HEAD on a miss asks for the size only; the download waits for a GET.
            if (await _cache.StatAsync(blob, ct) is not { } size)
            {
                await BlobUnknownAsync(context, digest);
                return;
            }
            await RegistryResponses.ServeBlobAsync(context, digest, size, static (_, _, _) => throw new InvalidOperationException("HEAD has no body"));
            return;
        }
        using var lease = _cache.Lease(digest);
        if (await _cache.OpenAsync(blob, ct) is not { } content)
        {
            await BlobUnknownAsync(context, digest);
            return;
        }
        await RegistryResponses.ServeBlobAsync(context, digest, content.Length, (offset, count, token) => content.Open(offset, count, token));
    }

    private async Task TagsAsync(HttpContext context, string name)
    {
        if (!RepositoryName.IsValid(name, out var nameError))
        {
            await RegistryErrors.WriteAsync(context, StatusCodes.Status400BadRequest, RegistryErrorCode.NAME_INVALID, nameError);
            return;
        }
        var query = context.Request.Query;
        int? n = null;
        if (query.TryGetValue("n", out var nValue) && !string.IsNullOrEmpty(nValue))
        {
            if (!int.TryParse(nValue, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                await RegistryErrors.WriteAsync(context, StatusCodes.Status400BadRequest, RegistryErrorCode.PAGINATION_NUMBER_INVALID, "n must be a non-negative integer");
                return;
            }
            n = count;
        }
        var last = query["last"].ToString();
        var page = n == 0
            ? new ListPage([], false)
            : await Upstream.CallAsync(t => _buildIndex.ListTagsAsync(name, n, string.IsNullOrEmpty(last) ? null : last, t), _timeout, _time, context.RequestAborted);
        if (page is null)
        {
            await RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.NAME_UNKNOWN, $"repository {name} is unknown");
            return;
        }
        if (page.More && page.Items.Count > 0)
        {
            var next = $"/v2/{name}/tags/list?{(n is { } size ? $"n={size.ToString(CultureInfo.InvariantCulture)}&" : "")}last={Uri.EscapeDataString(page.Items[^1])}";
            context.Response.Headers.Link = $"<{next}>; rel=\"next\"";
        }
        await WriteJsonAsync(context, writer =>
        {
            writer.WriteString("name", name);
            writer.WriteStartArray("tags");
            foreach (var tag in page.Items)
            {
                writer.WriteStringValue(tag);
            }
            writer.WriteEndArray();
        });
    }

    private async Task<byte[]> ReadManifestAsync(Digest digest, CancellationToken cancellationToken)
    {
        await using var file = _cache.Store.OpenRead(digest) ?? throw new IOException($"{digest} left the store while being served");
        if (file.Length > ManifestDocument.MaxSize)
        {
            throw new InvalidDataException($"manifest {digest} has {file.Length} bytes, more than {ManifestDocument.MaxSize}");
        }
        var content = new byte[file.Length];
        await file.ReadExactlyAsync(content, cancellationToken);
        return content;
    }

    private static Task BlobUnknownAsync(HttpContext context, Digest digest)
        => RegistryErrors.WriteAsync(context, StatusCodes.Status404NotFound, RegistryErrorCode.BLOB_UNKNOWN, $"blob {digest} is unknown");

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> writeProperties)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
        }
    }

    private static string? UpstreamOf(HttpRequest request)
    {
        var ns = request.Query["ns"].ToString();
        if (string.IsNullOrWhiteSpace(ns))
        {
            return null;
        }
        return ns.Length > AgentRequest.MaxUpstreamLength ? ns[..AgentRequest.MaxUpstreamLength] : ns;
    }

    private static string Truncate(string value) => value.Length > 80 ? value[..80] + "…" : value;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "{Method} {Kind} {Repository} {Reference} (ns {Upstream})")]
        public static partial void Request(ILogger logger, string method, RegistryRouteKind kind, string repository, string? reference, string? upstream);

        [LoggerMessage(2, LogLevel.Warning, "{Method} {Path} (ns {Upstream}) answered 503: {Error}: {Reason}")]
        public static partial void Unavailable(ILogger logger, string method, string? path, string? upstream, string error, string reason);
    }
}
