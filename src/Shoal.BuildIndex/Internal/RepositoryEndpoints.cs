using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// The build-index HTTP API (the contract is <see cref="BuildIndexClient"/>):
/// <code>
/// PUT|GET|DELETE /v1/repositories/{name}/tags/{tag}           {"digest":"sha256:…"} (PUT ?replicate=false: not copied to other clusters)
/// GET            /v1/repositories/{name}/tags?n=&amp;last=        {"items":[…],"more":bool}
/// PUT|GET|DELETE /v1/repositories/{name}/manifests/{digest}   {"mediaType":"…","size":…}
/// PUT|GET|DELETE /v1/repositories/{name}/blobs/{digest}       (GET answers {"digest":"sha256:…"})
/// GET            /v1/repositories?n=&amp;last=                    the catalog
/// </code>
/// Every name, tag and digest is validated before it reaches the store; problems are
/// ProblemDetails naming what is wrong. Reads that miss locally are answered by the registry behind
/// the repository, if any (<see cref="UpstreamIndex"/>); when it cannot answer, 503.
/// </summary>
internal sealed partial class RepositoryEndpoints(ITagStore store, UpstreamIndex upstream, ReplicationQueue? replicationQueue = null, Replicator? replicator = null)
{
    /// <summary>The route prefix of per-repository resources.</summary>
    public const string Prefix = "/v1/repositories";

    /// <summary>Request bodies are small JSON records; anything bigger is refused (413).</summary>
    private const int MaxBodySize = 64 * 1024;

    /// <summary>Handles <c>/v1/repositories/{**path}</c>.</summary>
    public async Task<IResult> HandleAsync(HttpContext context, string path)
    {
        var route = RepositoryPath.Parse(path);
        var method = context.Request.Method;
        var cancellationToken = context.RequestAborted;
        try
        {
            switch (route.Resource)
            {
                case RepositoryResource.TagList:
                    return HttpMethods.IsGet(method)
                        ? await ListTagsAsync(context.Request, route.Name, cancellationToken)
                        : MethodNotAllowed(method, "a tag list");
                case RepositoryResource.Tag:
                    return await TagAsync(context, route, cancellationToken);
                case RepositoryResource.Manifest:
                    return await ManifestAsync(context, route, cancellationToken);
                case RepositoryResource.Blob:
                    return await BlobAsync(context, route, cancellationToken);
                default:
                    return Problem(StatusCodes.Status404NotFound, "not found", $"'{Truncate(path)}' is not a build-index resource: expected <name>/_tags, <name>/tags/<tag>, <name>/manifests/<digest> or <name>/blobs/<digest>");
            }
        }
        catch (UpstreamUnavailableException ex)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "upstream registry unavailable", ex.Message);
        }
        catch (TagStorageUnavailableException ex)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "tag storage unavailable", ex.Message);
        }
        catch (InvalidDataException ex)
        {
            return Problem(StatusCodes.Status500InternalServerError, "corrupt record", ex.Message);
        }
    }

    /// <summary>Handles <c>GET /v1/repositories</c>: repositories with at least one tag or manifest.</summary>
    public async Task<IResult> ListRepositoriesAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!TryGetPaging(request, out var limit, out var last, out var problem))
        {
            return problem;
        }
        try
        {
            var page = await store.ListRepositoriesAsync(last, limit, cancellationToken);
            return Results.Json(page, RecordJsonContext.Default.ListPage);
        }
        catch (TagStorageUnavailableException ex)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "tag storage unavailable", ex.Message);
        }
    }

    private async Task<IResult> ListTagsAsync(HttpRequest request, string name, CancellationToken cancellationToken)
    {
        if (!TryValidateName(name, out var problem) || !TryGetPaging(request, out var limit, out var last, out problem))
        {
            return problem;
        }
        ListPage? page;
        if (await upstream.ListTagsAsync(name, cancellationToken) is { } upstreamTags)
        {
            // Merge with the local tags, then page over the union.
            var local = await store.ListTagsAsync(name, null, null, cancellationToken);
            if (local is null && upstreamTags.Count == 0)
            {
                page = null;
            }
            else
            {
                var merged = local is null ? upstreamTags : upstreamTags.Union(local.Items, StringComparer.Ordinal).ToList();
                merged.Sort(StringComparer.Ordinal);
                page = FileTagStore.Page(merged, last, limit);
            }
        }
        else
        {
            page = await store.ListTagsAsync(name, last, limit, cancellationToken);
        }
        return page is null
            ? Problem(StatusCodes.Status404NotFound, "repository unknown", $"repository '{name}' has no tags and no manifests")
            : Results.Json(page, RecordJsonContext.Default.ListPage);
    }

    private async Task<IResult> TagAsync(HttpContext context, RepositoryPath route, CancellationToken cancellationToken)
    {
        var (name, tag) = (route.Name, route.Reference);
        if (!TryValidateName(name, out var problem))
        {
            return problem;
        }
        if (!RepositoryName.IsValidTag(tag))
        {
            return Problem(StatusCodes.Status400BadRequest, "invalid tag", $"invalid tag '{Truncate(tag)}': up to 128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'");
        }
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method))
        {
            return (await store.GetTagAsync(name, tag, cancellationToken) ?? await upstream.GetTagAsync(name, tag, cancellationToken)) is { } digest
                ? DigestJson(digest)
                : Problem(StatusCodes.Status404NotFound, "tag unknown", $"repository '{name}' has no tag '{tag}'");
        }
        if (HttpMethods.IsPut(method))
        {
            var (record, bodyProblem) = await ReadJsonAsync(context, RecordJsonContext.Default.TagRecord, cancellationToken);
            if (record is null)
            {
                return bodyProblem!;
            }
            if (!Digest.TryParse(record.Digest, out var digest, out var error))
            {
                return Problem(StatusCodes.Status400BadRequest, "invalid digest", error);
            }
            await store.PutTagAsync(name, tag, digest, cancellationToken);
            upstream.Forget(name, tag);
            // Queued durably before the write is acknowledged.
            if (ReplicationTargets(context, name, deletes: false) is { Count: > 0 } remotes)
            {
                await replicationQueue!.EnqueueAsync(name, tag, digest, remotes, delete: false, cancellationToken);
            }
            return Results.NoContent();
        }
        upstream.Forget(name, tag);
        var deletes = ReplicationTargets(context, name, deletes: true);
        var deleted = deletes.Count > 0 ? await store.GetTagAsync(name, tag, cancellationToken) : null;
        if (!await store.DeleteTagAsync(name, tag, cancellationToken))
        {
            return Problem(StatusCodes.Status404NotFound, "tag unknown", $"repository '{name}' has no tag '{tag}'");
        }
        if (deleted is { } was)
        {
            // Rules with deletes: the deletion is queued durably before it is acknowledged.
            await replicationQueue!.EnqueueAsync(name, tag, was, deletes, delete: true, cancellationToken);
        }
        return Results.NoContent();
    }

    /// <summary>
    /// The remote build-indexes that get this write of <paramref name="name"/>'s tag (with
    /// <paramref name="deletes"/>, this deletion): none without replication rules, and none for a
    /// replicated write arriving (<c>?replicate=false</c>), which is not sent on.
    /// </summary>
    private IReadOnlyCollection<string> ReplicationTargets(HttpContext context, string name, bool deletes)
        => replicationQueue is not null && replicator is not null && context.Request.Query["replicate"] != "false"
            ? replicator.RemotesFor(name, deletes)
            : [];

    private async Task<IResult> ManifestAsync(HttpContext context, RepositoryPath route, CancellationToken cancellationToken)
    {
        if (!TryValidate(route, out var digest, out var problem))
        {
            return problem;
        }
        var name = route.Name;
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method))
        {
            return (await store.GetManifestAsync(name, digest, cancellationToken) ?? await upstream.GetManifestAsync(name, digest, cancellationToken)) is { } record
                ? Results.Json(record, RecordJsonContext.Default.ManifestRecord)
                : Problem(StatusCodes.Status404NotFound, "manifest unknown", $"repository '{name}' has no manifest {digest}");
        }
        if (HttpMethods.IsPut(method))
        {
            var (record, bodyProblem) = await ReadJsonAsync(context, RecordJsonContext.Default.ManifestRecord, cancellationToken);
            if (record is null)
            {
                return bodyProblem!;
            }
            if (string.IsNullOrEmpty(record.MediaType) || !MediaTypePattern().IsMatch(record.MediaType))
            {
                return Problem(StatusCodes.Status400BadRequest, "invalid manifest record", $"mediaType '{Truncate(record.MediaType)}' is not a media type (type/subtype)");
            }
            if (record.Size < 0)
            {
                return Problem(StatusCodes.Status400BadRequest, "invalid manifest record", $"size {record.Size} is negative");
            }
            await store.PutManifestAsync(name, digest, new ManifestRecord(record.MediaType, record.Size), cancellationToken);
            return Results.NoContent();
        }
        return await store.DeleteManifestAsync(name, digest, cancellationToken)
            ? Results.NoContent()
            : Problem(StatusCodes.Status404NotFound, "manifest unknown", $"repository '{name}' has no manifest {digest}");
    }

    private async Task<IResult> BlobAsync(HttpContext context, RepositoryPath route, CancellationToken cancellationToken)
    {
        if (!TryValidate(route, out var digest, out var problem))
        {
            return problem;
        }
        var name = route.Name;
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method))
        {
            return await store.HasBlobLinkAsync(name, digest, cancellationToken)
                ? DigestJson(digest)
                : Problem(StatusCodes.Status404NotFound, "blob unknown", $"blob {digest} is not linked to repository '{name}'");
        }
        if (HttpMethods.IsPut(method))
        {
            await store.PutBlobLinkAsync(name, digest, cancellationToken);
            return Results.NoContent();
        }
        return await store.DeleteBlobLinkAsync(name, digest, cancellationToken)
            ? Results.NoContent()
            : Problem(StatusCodes.Status404NotFound, "blob unknown", $"blob {digest} is not linked to repository '{name}'");
    }

    private static bool TryValidate(RepositoryPath route, out Digest digest, [NotNullWhen(false)] out IResult? problem)
    {
        digest = default;
        if (!TryValidateName(route.Name, out problem))
        {
            return false;
        }
        if (!Digest.TryParse(route.Reference, out digest, out var error))
        {
            problem = Problem(StatusCodes.Status400BadRequest, "invalid digest", error);
            return false;
        }
        return true;
    }

    private static bool TryValidateName(string name, [NotNullWhen(false)] out IResult? problem)
    {
        if (RepositoryName.IsValid(name, out var error))
        {
            problem = null;
            return true;
        }
        problem = Problem(StatusCodes.Status400BadRequest, "invalid repository name", error);
        return false;
    }

    /// <summary>Reads <c>n</c> (a non-negative integer; absent = no limit) and <c>last</c> from the query.</summary>
    private static bool TryGetPaging(HttpRequest request, out int? limit, out string? last, [NotNullWhen(false)] out IResult? problem)
    {
        limit = null;
        last = null;
        var n = request.Query["n"];
        var lastValues = request.Query["last"];
        if (n.Count > 1 || lastValues.Count > 1)
        {
            problem = Problem(StatusCodes.Status400BadRequest, "invalid paging", "n and last may each be given once");
            return false;
        }
        if (n.Count == 1)
        {
            if (!int.TryParse(n[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                problem = Problem(StatusCodes.Status400BadRequest, "invalid paging", $"n must be a non-negative integer, got '{Truncate(n[0])}'");
                return false;
            }
            limit = value;
        }
        last = lastValues.Count == 1 && !string.IsNullOrEmpty(lastValues[0]) ? lastValues[0] : null;
        problem = null;
        return true;
    }

    private static async Task<(T? Value, IResult? Problem)> ReadJsonAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : class
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            sizeLimit.MaxRequestBodySize = MaxBodySize;
        }
        try
        {
            var value = await JsonSerializer.DeserializeAsync(context.Request.Body, typeInfo, cancellationToken);
            return value is null
                ? (null, Problem(StatusCodes.Status400BadRequest, "invalid body", "the body is JSON null"))
                : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "invalid body", "the body is not the expected JSON record: " + ex.Message));
        }
        catch (BadHttpRequestException ex)
        {
            return (null, Problem(ex.StatusCode, "invalid body", ex.Message));
        }
    }

    private static IResult DigestJson(Digest digest) => Results.Json(new TagRecord(digest.ToString()), RecordJsonContext.Default.TagRecord);

    private static IResult MethodNotAllowed(string method, string what)
        => Problem(StatusCodes.Status405MethodNotAllowed, "method not allowed", $"{method} is not allowed on {what}");

    private static IResult Problem(int status, string title, string detail)
        => Results.Problem(title: title, detail: detail, statusCode: status);

    private static string Truncate(string? value)
        => value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";

    /// <summary>RFC 6838 type/subtype, without parameters.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$", RegexOptions.CultureInvariant)]
    private static partial Regex MediaTypePattern();
}
