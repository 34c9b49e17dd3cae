using System.Net;
using System.Net.Http.Json;
using Shoal.Core;

namespace Shoal.Clients.BuildIndex;

/// <summary>
/// Typed client of the build-index API. Per repository it keeps tags (tag → digest), manifest
/// revisions (digest → media type and size) and blob links (which blobs a repository may serve):
/// <code>
/// PUT|GET|DELETE /v1/repositories/{name}/tags/{tag}
/// GET            /v1/repositories/{name}/_tags?n=&amp;last=
/// PUT|GET|DELETE /v1/repositories/{name}/manifests/{digest}
/// PUT|GET|DELETE /v1/repositories/{name}/blobs/{digest}
/// GET            /v1/repositories?n=&amp;last=
/// </code>
/// </summary>
public sealed class BuildIndexClient
{
    private const string Service = "build-index";
    private readonly HttpClient _http;

    public BuildIndexClient(HttpClient http, Uri baseAddress)
    {
        _http = http;
        BaseAddress = baseAddress;
    }

    /// <summary>The build-index's base URL.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Points <paramref name="tag"/> of <paramref name="repository"/> at <paramref name="digest"/> (and has it replicated by the build-index's rules).</summary>
    public Task PutTagAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken)
        => PutTagAsync(repository, tag, digest, replicate: true, cancellationToken);

    /// <summary>
    /// Points <paramref name="tag"/> at <paramref name="digest"/>; with <paramref name="replicate"/>
    /// false the build-index does not copy the tag to other clusters (a replicated tag arriving).
    /// </summary>
    public Task PutTagAsync(string repository, string tag, Digest digest, bool replicate, CancellationToken cancellationToken)
        => PutAsync(Repo(repository, "tags/" + Uri.EscapeDataString(tag) + (replicate ? string.Empty : "?replicate=false")),
            JsonContent.Create(new TagRecord(digest.ToString()), BuildIndexJsonContext.Default.TagRecord), cancellationToken);

    /// <summary>The digest a tag points at, or null when the tag does not exist.</summary>
    public async Task<Digest?> GetTagAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        var record = await GetAsync(Repo(repository, "tags/" + Uri.EscapeDataString(tag)), BuildIndexJsonContext.Default.TagRecord, cancellationToken);
        return record is null ? null : Digest.Parse(record.Digest);
    }

    /// <summary>Deletes a tag. Returns false when it did not exist.</summary>
    public Task<bool> DeleteTagAsync(string repository, string tag, CancellationToken cancellationToken)
        => DeleteTagAsync(repository, tag, replicate: true, cancellationToken);

    /// <summary>
    /// Deletes a tag; with <paramref name="replicate"/> false the build-index does not pass the
    /// deletion on to other clusters (a replicated deletion arriving). Returns false when it did not exist.
    /// </summary>
    public Task<bool> DeleteTagAsync(string repository, string tag, bool replicate, CancellationToken cancellationToken)
        => DeleteAsync(Repo(repository, "tags/" + Uri.EscapeDataString(tag) + (replicate ? string.Empty : "?replicate=false")), cancellationToken);

    /// <summary>Lists a repository's tags in lexical order after <paramref name="last"/>; null when the repository is unknown.</summary>
    public Task<ListPage?> ListTagsAsync(string repository, int? n, string? last, CancellationToken cancellationToken)
        => GetAsync(Repo(repository, "_tags" + Paging(n, last)), BuildIndexJsonContext.Default.ListPage, cancellationToken);

    /// <summary>Lists repositories in lexical order after <paramref name="last"/>.</summary>
    public async Task<ListPage> ListRepositoriesAsync(int? n, string? last, CancellationToken cancellationToken)
        => await GetAsync(new Uri(BaseAddress, "v1/repositories" + Paging(n, last)), BuildIndexJsonContext.Default.ListPage, cancellationToken)
           ?? new ListPage([], false);

    /// <summary>Records that <paramref name="repository"/> holds manifest <paramref name="digest"/>.</summary>
    public Task PutManifestAsync(string repository, Digest digest, ManifestRecord record, CancellationToken cancellationToken)
        => PutAsync(Repo(repository, "manifests/" + digest), JsonContent.Create(record, BuildIndexJsonContext.Default.ManifestRecord), cancellationToken);

    /// <summary>The repository's record of a manifest, or null when the repository does not hold it.</summary>
    public Task<ManifestRecord?> GetManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => GetAsync(Repo(repository, "manifests/" + digest), BuildIndexJsonContext.Default.ManifestRecord, cancellationToken);

    /// <summary>Removes a manifest from a repository, and every tag that points at it. False when absent.</summary>
    public Task<bool> DeleteManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => DeleteAsync(Repo(repository, "manifests/" + digest), cancellationToken);

    /// <summary>Links a blob to a repository (after an upload or a mount).</summary>
    public Task PutBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => PutAsync(Repo(repository, "blobs/" + digest), content: null, cancellationToken);

    /// <summary>True when the blob is linked to the repository.</summary>
    public async Task<bool> HasBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(Repo(repository, "blobs/" + digest), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        return true;
    }

    /// <summary>Unlinks a blob from a repository. False when it was not linked.</summary>
    public Task<bool> DeleteBlobLinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
        => DeleteAsync(Repo(repository, "blobs/" + digest), cancellationToken);

    /// <summary>True when build-index answers its readiness check.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(BaseAddress, "readiness"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private Uri Repo(string repository, string rest) => new(BaseAddress, $"v1/repositories/{ServiceEndpoint.EscapeName(repository)}/{rest}");

    private static string Paging(int? n, string? last)
    {
        var query = new List<string>();
        if (n is { } count)
        {
            query.Add("n=" + count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (!string.IsNullOrEmpty(last))
        {
            query.Add("last=" + Uri.EscapeDataString(last));
        }
        return query.Count == 0 ? "" : "?" + string.Join('&', query);
    }

    private async Task PutAsync(Uri uri, HttpContent? content, CancellationToken cancellationToken)
    {
        using var response = await _http.PutAsync(uri, content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
    }

    private async Task<T?> GetAsync<T>(Uri uri, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : class
    {
        using var response = await _http.GetAsync(uri, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        return await response.Content.ReadFromJsonAsync(typeInfo, cancellationToken);
    }

    private async Task<bool> DeleteAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync(uri, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(Service, response, cancellationToken);
        }
        return true;
    }
}
