using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Storage;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// Build-index's records as a Docker registry (CNCF distribution) keeps them, in a backend with the
/// <c>distribution</c> layout (names below are relative to <c>docker/registry/v2/</c>), so that a
/// registry on the same storage serves what was pushed through Shoal and Shoal serves what was
/// pushed to the registry:
/// <code>
/// repositories/&lt;name&gt;/_manifests/tags/&lt;tag&gt;/current/link                 sha256:&lt;hex&gt;
/// repositories/&lt;name&gt;/_manifests/tags/&lt;tag&gt;/index/sha256/&lt;hex&gt;/link     sha256:&lt;hex&gt;
/// repositories/&lt;name&gt;/_manifests/revisions/sha256/&lt;hex&gt;/link          sha256:&lt;hex&gt;
/// repositories/&lt;name&gt;/_layers/sha256/&lt;hex&gt;/link                       sha256:&lt;hex&gt;
/// </code>
/// A registry keeps no media type or size beside a revision: a manifest's record is read from the
/// manifest itself (the blob <c>blobs/sha256/&lt;hex&gt;</c>) and remembered, as is every record
/// written through this store (a manifest pushed through Shoal reaches the backend with the
/// origins' write-back, which may come after its revision link).
/// </summary>
internal sealed class DistributionTagStore(IBlobBackend backend, TimeProvider time, TimeSpan tagTtl, ILogger logger)
    : BackendTagStore(backend, time, tagTtl, logger)
{
    private const string TagsPath = "_manifests/tags/";
    private const string RevisionsPath = "_manifests/revisions/";
    private const string LayersPath = "_layers/";
    private const string Link = "/link";
    private const string CurrentLink = "/current/link";
    private const int MaxCachedRecords = 100_000;

    /// <summary>Media type and size of manifests: a function of the digest, so never stale.</summary>
    private readonly ConcurrentDictionary<Digest, ManifestRecord> _records = new();

    protected override Task<Digest?> ReadTagAsync(string repository, string tag, CancellationToken cancellationToken)
        => ReadLinkAsync(TagPrefix(repository, tag) + CurrentLink[1..], cancellationToken);

    protected override async Task WriteTagAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken)
    {
        // The index entry first: whoever sees the current link finds its history complete.
        var content = LinkContent(digest);
        await WriteAsync(TagPrefix(repository, tag) + "index/" + DigestPath(digest) + Link, content, cancellationToken);
        await WriteAsync(TagPrefix(repository, tag) + CurrentLink[1..], content, cancellationToken);
    }

    protected override async Task<bool> RemoveTagAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        // The current link first: the tag is gone once it is; then its index.
        var prefix = TagPrefix(repository, tag);
        var existed = await Backend.DeleteAsync(prefix + CurrentLink[1..], cancellationToken);
        var rest = new List<string>();
        await foreach (var name in ListAsync(prefix, cancellationToken))
        {
            rest.Add(name);
        }
        foreach (var name in rest)
        {
            await Backend.DeleteAsync(name, cancellationToken);
        }
        return existed;
    }

    protected override async Task<List<string>> ListTagNamesAsync(string repository, CancellationToken cancellationToken)
    {
        var prefix = RepositoryPrefix(repository) + TagsPath;
        var tags = new List<string>();
        await foreach (var name in ListAsync(prefix, cancellationToken))
        {
            if (name.EndsWith(CurrentLink, StringComparison.Ordinal))
            {
                var tag = name[prefix.Length..^CurrentLink.Length];
                if (RepositoryName.IsValidTag(tag))
                {
                    tags.Add(tag);
                }
            }
        }
        return tags;
    }

    protected override async Task<bool> HasManifestsAsync(string repository, CancellationToken cancellationToken)
        => (await Backend.ListAsync(RepositoryPrefix(repository) + RevisionsPath + Digest.Sha256 + "/", null, 1, cancellationToken)).Objects.Count > 0;

    protected override async Task<ManifestRecord?> ReadManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(RevisionName(repository, digest), cancellationToken))
        {
            return null;
        }
        if (_records.TryGetValue(digest, out var known))
        {
            return known;
        }
        var blob = BackendNames.ForBlob(digest);
        var bytes = await ReadAsync(blob, ManifestDocument.MaxSize, cancellationToken);
        if (bytes is null)
        {
            return null; // Linked before its bytes arrived (a write-back in flight, or a registry upload).
        }
        var actual = Digest.Compute(bytes);
        if (actual != digest)
        {
            throw new InvalidDataException($"manifest blob {digest} in the storage backend hashes to {actual}");
        }
        if (!ManifestDocument.TryParse(bytes, null, out var manifest, out var error) || manifest is null)
        {
            throw new InvalidDataException($"manifest {repository}@{digest} in the storage backend cannot be read: {error}");
        }
        var record = new ManifestRecord(manifest.MediaType, bytes.Length);
        Remember(digest, record);
        return record;
    }

    protected override async Task WriteManifestAsync(string repository, Digest digest, ManifestRecord record, CancellationToken cancellationToken)
    {
        Remember(digest, record);
        await WriteAsync(RevisionName(repository, digest), LinkContent(digest), cancellationToken);
    }

    protected override Task<bool> RemoveManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => Backend.DeleteAsync(RevisionName(repository, digest), cancellationToken);

    /// <summary>A layer link, or a manifest revision (Shoal links manifests as blobs too; a registry does not).</summary>
    protected override async Task<bool> HasBlobLinkCoreAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => await ExistsAsync(BlobLinkName(repository, digest), cancellationToken) || await ExistsAsync(RevisionName(repository, digest), cancellationToken);

    protected override string BlobLinkName(string repository, Digest digest) => RepositoryPrefix(repository) + LayersPath + DigestPath(digest) + Link;

    protected override byte[] LinkContent(Digest digest) => Encoding.ASCII.GetBytes(digest.ToString());

    protected override string? RepositoryOf(string name)
    {
        var at = name.IndexOf("/_manifests/", RepositoriesPrefix.Length, StringComparison.Ordinal);
        return at > RepositoriesPrefix.Length ? name[RepositoriesPrefix.Length..at] : null;
    }

    private static string TagPrefix(string repository, string tag) => RepositoryPrefix(repository) + TagsPath + tag + "/";

    private static string RevisionName(string repository, Digest digest) => RepositoryPrefix(repository) + RevisionsPath + DigestPath(digest) + Link;

    private void Remember(Digest digest, ManifestRecord record)
    {
        if (_records.Count >= MaxCachedRecords)
        {
            _records.Clear();
        }
        _records[digest] = record;
    }
}
