using Shoal.Clients.BuildIndex;
using Shoal.Core;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// Where build-index keeps its records, per repository: tags (tag → manifest digest), manifest
/// revisions (digest → media type and size) and blob links. Callers pass only validated repository
/// names, tags and digests. Every write is atomic; concurrent writes of the same record are safe and
/// the last one wins. This is the seam where tag storage moves onto the storage backends.
/// </summary>
internal interface ITagStore
{
    /// <summary>The digest <paramref name="tag"/> points at, or null.</summary>
    Task<Digest?> GetTagAsync(string repository, string tag, CancellationToken cancellationToken);

    /// <summary>Points <paramref name="tag"/> at <paramref name="digest"/>, replacing any previous target.</summary>
    Task PutTagAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken);

    /// <summary>Deletes a tag. False when it did not exist.</summary>
    Task<bool> DeleteTagAsync(string repository, string tag, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> tags (all when null) sorted ordinally after <paramref name="last"/>;
    /// null when the repository has neither tags nor manifests.
    /// </summary>
    Task<ListPage?> ListTagsAsync(string repository, string? last, int? limit, CancellationToken cancellationToken);

    /// <summary>The repository's record of manifest <paramref name="digest"/>, or null.</summary>
    Task<ManifestRecord?> GetManifestAsync(string repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>Records manifest <paramref name="digest"/> in the repository.</summary>
    Task PutManifestAsync(string repository, Digest digest, ManifestRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Removes manifest <paramref name="digest"/> and every tag of the repository that points at it.
    /// False when there was neither the manifest nor such a tag.
    /// </summary>
    Task<bool> DeleteManifestAsync(string repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>True when blob <paramref name="digest"/> is linked to the repository.</summary>
    Task<bool> HasBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>Links blob <paramref name="digest"/> to the repository.</summary>
    Task PutBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>Unlinks a blob. False when it was not linked.</summary>
    Task<bool> DeleteBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> repositories (all when null) with a tag or a manifest, sorted ordinally after <paramref name="last"/>.</summary>
    Task<ListPage> ListRepositoriesAsync(string? last, int? limit, CancellationToken cancellationToken);

    /// <summary>Null when the store can take writes, else the reason it cannot.</summary>
    Task<string?> CheckWritableAsync(CancellationToken cancellationToken);
}
