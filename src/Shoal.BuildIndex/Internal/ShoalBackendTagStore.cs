using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Storage;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// Build-index's records in a backend with the <c>shoal</c> layout, named like the local store's files:
/// <code>
/// repositories/&lt;name&gt;/_tags/&lt;tag&gt;                 {"digest":"sha256:…"}
/// repositories/&lt;name&gt;/_manifests/sha256/&lt;hex&gt;     {"mediaType":"…","size":…}
/// repositories/&lt;name&gt;/_blobs/sha256/&lt;hex&gt;         (empty: the link itself)
/// </code>
/// Repository components never start with '_', so the record names cannot collide with nested repositories.
/// </summary>
internal sealed class ShoalBackendTagStore(IBlobBackend backend, TimeProvider time, TimeSpan tagTtl, ILogger logger)
    : BackendTagStore(backend, time, tagTtl, logger)
{
    private const string Tags = "_tags/";
    private const string Manifests = "_manifests/";
    private const string Blobs = "_blobs/";

    protected override async Task<Digest?> ReadTagAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        var name = TagName(repository, tag);
        var bytes = await ReadAsync(name, MaxRecordSize, cancellationToken);
        if (bytes is null)
        {
            return null;
        }
        var record = Deserialize(bytes, RecordJsonContext.Default.TagRecord, name);
        return Digest.TryParse(record.Digest, out var digest, out var error)
            ? digest
            : throw new InvalidDataException($"tag record {name} holds an invalid digest: {error}");
    }

    protected override Task WriteTagAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken)
        => WriteAsync(TagName(repository, tag), JsonSerializer.SerializeToUtf8Bytes(new TagRecord(digest.ToString()), RecordJsonContext.Default.TagRecord), cancellationToken);

    protected override Task<bool> RemoveTagAsync(string repository, string tag, CancellationToken cancellationToken)
        => Backend.DeleteAsync(TagName(repository, tag), cancellationToken);

    protected override async Task<List<string>> ListTagNamesAsync(string repository, CancellationToken cancellationToken)
    {
        var prefix = RepositoryPrefix(repository) + Tags;
        var tags = new List<string>();
        await foreach (var name in ListAsync(prefix, cancellationToken))
        {
            var tag = name[prefix.Length..];
            if (RepositoryName.IsValidTag(tag))
            {
                tags.Add(tag);
            }
        }
        return tags;
    }

    protected override async Task<bool> HasManifestsAsync(string repository, CancellationToken cancellationToken)
        => (await Backend.ListAsync(RepositoryPrefix(repository) + Manifests + Digest.Sha256 + "/", null, 1, cancellationToken)).Objects.Count > 0;

    protected override async Task<ManifestRecord?> ReadManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var name = ManifestName(repository, digest);
        var bytes = await ReadAsync(name, MaxRecordSize, cancellationToken);
        return bytes is null ? null : Deserialize(bytes, RecordJsonContext.Default.ManifestRecord, name);
    }

    protected override Task WriteManifestAsync(string repository, Digest digest, ManifestRecord record, CancellationToken cancellationToken)
        => WriteAsync(ManifestName(repository, digest), JsonSerializer.SerializeToUtf8Bytes(record, RecordJsonContext.Default.ManifestRecord), cancellationToken);

    protected override Task<bool> RemoveManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => Backend.DeleteAsync(ManifestName(repository, digest), cancellationToken);

    protected override Task<bool> HasBlobLinkCoreAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => ExistsAsync(BlobLinkName(repository, digest), cancellationToken);

    protected override string BlobLinkName(string repository, Digest digest) => RepositoryPrefix(repository) + Blobs + DigestPath(digest);

    protected override byte[] LinkContent(Digest digest) => [];

    protected override string? RepositoryOf(string name)
    {
        foreach (var marker in new[] { "/" + Tags, "/" + Manifests })
        {
            var at = name.IndexOf(marker, RepositoriesPrefix.Length, StringComparison.Ordinal);
            if (at > RepositoriesPrefix.Length)
            {
                return name[RepositoriesPrefix.Length..at];
            }
        }
        return null;
    }

    private static string TagName(string repository, string tag) => RepositoryPrefix(repository) + Tags + tag;

    private static string ManifestName(string repository, Digest digest) => RepositoryPrefix(repository) + Manifests + DigestPath(digest);

    private static T Deserialize<T>(byte[] bytes, JsonTypeInfo<T> typeInfo, string name)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, typeInfo) ?? throw new InvalidDataException($"record {name} is empty");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"record {name} is corrupt: {ex.Message}", ex);
        }
    }
}
