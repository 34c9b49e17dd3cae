namespace Shoal.BuildIndex.Internal;

/// <summary>What a path under <c>/v1/repositories/</c> addresses.</summary>
internal enum RepositoryResource
{
    /// <summary>Not a build-index resource.</summary>
    None,

    /// <summary><c>&lt;name&gt;/_tags</c>: the repository's tag list (<c>_tags</c> can be neither a tag's parent keyword nor a name component, so the path is unambiguous).</summary>
    TagList,

    /// <summary><c>&lt;name&gt;/tags/&lt;tag&gt;</c>.</summary>
    Tag,

    /// <summary><c>&lt;name&gt;/manifests/&lt;digest&gt;</c>.</summary>
    Manifest,

    /// <summary><c>&lt;name&gt;/blobs/&lt;digest&gt;</c>.</summary>
    Blob,
}

/// <summary>
/// A parsed path below <c>/v1/repositories/</c>. Repository names contain slashes, so the path is
/// read from its end: the trailing one or two segments name the resource and the rest is the
/// repository. Name and reference are not validated here.
/// </summary>
/// <param name="Resource">What the path addresses.</param>
/// <param name="Name">The repository name.</param>
/// <param name="Reference">The tag or digest, for the resources that have one.</param>
internal readonly record struct RepositoryPath(RepositoryResource Resource, string Name, string? Reference)
{
    private const string Tags = "tags";
    private const string TagList = "_tags";

    /// <summary>Parses <paramref name="path"/>, the part of the request path after <c>/v1/repositories/</c>.</summary>
    public static RepositoryPath Parse(string? path)
    {
        var lastSlash = path?.LastIndexOf('/') ?? -1;
        if (path is null || lastSlash <= 0)
        {
            return default;
        }
        var last = path[(lastSlash + 1)..];
        var head = path[..lastSlash];
        var keywordSlash = head.LastIndexOf('/');
        var keyword = head[(keywordSlash + 1)..];
        var name = keywordSlash < 0 ? "" : head[..keywordSlash];
        if (last == TagList)
        {
            return new RepositoryPath(RepositoryResource.TagList, head, null);
        }
        return keyword switch
        {
            Tags => new RepositoryPath(RepositoryResource.Tag, name, last),
            "manifests" => new RepositoryPath(RepositoryResource.Manifest, name, last),
            "blobs" => new RepositoryPath(RepositoryResource.Blob, name, last),
            _ => default,
        };
    }
}
