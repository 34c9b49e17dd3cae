namespace Shoal.Core.Registry;

/// <summary>What a <c>/v2/…</c> path addresses.</summary>
public enum RegistryRouteKind
{
    /// <summary>Not a registry API path.</summary>
    None,

    /// <summary><c>/v2/</c>: the version check.</summary>
    Base,

    /// <summary><c>/v2/_catalog</c>.</summary>
    Catalog,

    /// <summary><c>/v2/&lt;name&gt;/tags/list</c>.</summary>
    TagsList,

    /// <summary><c>/v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>.</summary>
    Manifest,

    /// <summary><c>/v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>.</summary>
    Blob,

    /// <summary><c>/v2/&lt;name&gt;/blobs/uploads/</c>.</summary>
    UploadStart,

    /// <summary><c>/v2/&lt;name&gt;/blobs/uploads/&lt;id&gt;</c>.</summary>
    Upload,

    /// <summary><c>/v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>.</summary>
    Referrers,
}

/// <summary>
/// A parsed registry API path. Repository names contain slashes, so the path is read from its end:
/// the trailing segments name the resource and everything before them is the repository.
/// </summary>
/// <param name="Kind">What the path addresses.</param>
/// <param name="Name">The repository name, unvalidated (empty for Base and Catalog).</param>
/// <param name="Reference">The tag, digest or upload id, unvalidated, when the route has one.</param>
public sealed record RegistryRoute(RegistryRouteKind Kind, string Name, string? Reference)
{
    private static readonly RegistryRoute NoneRoute = new(RegistryRouteKind.None, "", null);

    /// <summary>Parses a request path such as <c>/v2/library/nginx/manifests/latest</c>.</summary>
    public static RegistryRoute Parse(string? path)
    {
        if (path is null || !path.StartsWith("/v2", StringComparison.Ordinal))
        {
            return NoneRoute;
        }
        var rest = path.AsSpan(3);
        if (rest.IsEmpty || rest is "/")
        {
            return new RegistryRoute(RegistryRouteKind.Base, "", null);
        }
        if (rest[0] != '/')
        {
            return NoneRoute;
        }
        var segments = rest[1..].ToString().Split('/');
        if (segments is ["_catalog"])
        {
            return new RegistryRoute(RegistryRouteKind.Catalog, "", null);
        }
        var n = segments.Length;
        if (n >= 3 && segments[n - 2] == "tags" && segments[n - 1] == "list")
        {
            return Make(RegistryRouteKind.TagsList, segments, n - 2, null);
        }
        if (n >= 4 && segments[n - 3] == "blobs" && segments[n - 2] == "uploads")
        {
            return segments[n - 1].Length == 0
                ? Make(RegistryRouteKind.UploadStart, segments, n - 3, null)
                : Make(RegistryRouteKind.Upload, segments, n - 3, segments[n - 1]);
        }
        if (n >= 3 && segments[n - 2] == "blobs" && segments[n - 1] == "uploads")
        {
            return Make(RegistryRouteKind.UploadStart, segments, n - 2, null);
        }
        if (n >= 3 && segments[n - 1].Length > 0)
        {
            var kind = segments[n - 2] switch
            {
                "manifests" => RegistryRouteKind.Manifest,
                "blobs" => RegistryRouteKind.Blob,
                "referrers" => RegistryRouteKind.Referrers,
                _ => RegistryRouteKind.None,
            };
            if (kind != RegistryRouteKind.None)
            {
                return Make(kind, segments, n - 2, segments[n - 1]);
            }
        }
        return NoneRoute;
    }

    private static RegistryRoute Make(RegistryRouteKind kind, string[] segments, int nameSegments, string? reference)
        => new(kind, string.Join('/', segments, 0, nameSegments), reference);
}
