using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Shoal.Clients.BuildIndex;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Internal;

/// <summary>
/// <c>GET /v2/&lt;name&gt;/tags/list?n=&amp;last=</c> and <c>GET /v2/_catalog?n=&amp;last=</c>: sorted listings
/// from build-index, paginated with a <c>Link: &lt;…&gt;; rel="next"</c> header while more remain.
/// Without <c>n</c> everything is listed, as the spec says; a page holds at most <see cref="MaxPageSize"/>.
/// </summary>
internal sealed class ListingHandlers(BuildIndexClient buildIndex)
{
    /// <summary>The largest page served; a bigger <c>n</c> gets this many and a Link to the rest.</summary>
    public const int MaxPageSize = 10_000;

    public async Task<IResult> TagsAsync(HttpContext context, string name, CancellationToken cancellationToken)
    {
        if (!TryGetPaging(context.Request, out var n, out var last, out var problem))
        {
            return problem;
        }
        var page = await buildIndex.ListTagsAsync(name, n, last, cancellationToken);
        if (page is null)
        {
            return Answers.Error(StatusCodes.Status404NotFound, RegistryErrorCode.NAME_UNKNOWN,
                $"repository '{name}' is not known: it has no tags and no manifests",
                new Dictionary<string, string>(StringComparer.Ordinal) { ["name"] = name });
        }
        AddNextLink(context.Response, $"/v2/{name}/tags/list", page, n);
        return Results.Json(new TagList(name, page.Items), ProxyJsonContext.Default.TagList);
    }

    public async Task<IResult> CatalogAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (!TryGetPaging(context.Request, out var n, out var last, out var problem))
        {
            return problem;
        }
        var page = await buildIndex.ListRepositoriesAsync(n, last, cancellationToken);
        AddNextLink(context.Response, "/v2/_catalog", page, n);
        return Results.Json(new Catalog(page.Items), ProxyJsonContext.Default.Catalog);
    }

    private static void AddNextLink(HttpResponse response, string path, ListPage page, int? n)
    {
        if (page.More && page.Items.Count > 0)
        {
            var next = Uri.EscapeDataString(page.Items[^1]);
            var size = (n ?? page.Items.Count).ToString(CultureInfo.InvariantCulture);
            response.Headers.Link = $"<{path}?last={next}&n={size}>; rel=\"next\"";
        }
    }

    /// <summary><c>n</c>: a non-negative integer (capped at <see cref="MaxPageSize"/>); <c>last</c>: where the previous page ended.</summary>
    private static bool TryGetPaging(HttpRequest request, out int? n, out string? last, [NotNullWhen(false)] out IResult? problem)
    {
        n = null;
        var nValues = request.Query["n"];
        var lastValues = request.Query["last"];
        last = lastValues.Count == 1 && !string.IsNullOrEmpty(lastValues[0]) ? lastValues[0] : null;
        if (nValues.Count > 1 || lastValues.Count > 1)
        {
            problem = Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.PAGINATION_NUMBER_INVALID, "n and last may each be given once");
            return false;
        }
        if (nValues.Count == 1)
        {
            if (!int.TryParse(nValues[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                problem = Answers.Error(StatusCodes.Status400BadRequest, RegistryErrorCode.PAGINATION_NUMBER_INVALID,
                    $"n must be a non-negative integer, not '{Answers.Truncate(nValues[0])}'");
                return false;
            }
            n = Math.Min(value, MaxPageSize);
        }
        problem = null;
        return true;
    }
}
