using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Storage.Registry.Internal;

namespace Shoal.Storage.Registry;

/// <summary>A tag resolved by a registry: the manifest it points at.</summary>
/// <param name="Digest">The manifest's digest.</param>
/// <param name="MediaType">The manifest's media type.</param>
/// <param name="Size">The manifest's length in bytes.</param>
public sealed record RegistryManifestInfo(Digest Digest, string MediaType, long Size);

/// <summary>A manifest fetched from a registry, its digest verified.</summary>
/// <param name="Digest">The digest of <paramref name="Content"/>.</param>
/// <param name="MediaType">The manifest's media type.</param>
/// <param name="Content">The manifest bytes (at most <see cref="ManifestDocument.MaxSize"/>).</param>
public sealed record RegistryManifest(Digest Digest, string MediaType, byte[] Content);

/// <summary>One page of a repository's tags.</summary>
/// <param name="Tags">The tags of this page, in the registry's order (lexical for distribution).</param>
/// <param name="Last">Pass it as <c>last</c> to get the next page; null when this is the last page.</param>
public sealed record RegistryTagPage(IReadOnlyList<string> Tags, string? Last);

/// <summary>
/// Tags and manifests of a Docker Registry V2 / OCI registry, e.g. as the tag source of the
/// build-index. Authenticates like <see cref="RegistryBackend"/> (whose <see cref="RegistryBackend.Tags"/>
/// shares its connections and tokens).
/// </summary>
public sealed class RegistryTagSource : IDisposable
{
    private readonly RegistryClient _client;
    private readonly bool _ownsClient;

    /// <summary>Creates a tag source for the registry the options describe.</summary>
    public RegistryTagSource(RegistryBackendOptions options, TimeProvider? timeProvider = null)
        : this(new RegistryClient(options, timeProvider), ownsClient: true)
    {
    }

    internal RegistryTagSource(RegistryClient client, bool ownsClient)
    {
        _client = client;
        _ownsClient = ownsClient;
    }

    /// <summary>The registry's base URL.</summary>
    public Uri Address => _client.Address.BaseUri;

    /// <summary>
    /// The manifest that <paramref name="tag"/> (or a digest) of <paramref name="repository"/> points
    /// at, or null when the registry does not have it. Uses HEAD, falling back to GET when the
    /// registry's HEAD answer lacks the digest, type or size.
    /// </summary>
    /// <exception cref="ArgumentException">The repository name or tag is invalid.</exception>
    public async Task<RegistryManifestInfo?> ResolveTagAsync(string repository, string tag, CancellationToken cancellationToken = default)
    {
        var repo = _client.Address.Repository(repository);
        CheckReference(tag);
        var url = ManifestUrl(repo, tag);
        var what = $"HEAD manifest {repo}:{tag}";
        using (var timeout = _client.StartTimeout(cancellationToken))
        {
            try
            {
                using var response = await _client.SendAsync(() => ManifestRequest(HttpMethod.Head, url), RegistryClient.PullScope(repo), replayable: true, timeout.Token);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }
                if (!response.IsSuccessStatusCode)
                {
                    throw await _client.FailureAsync(response, what, timeout.Token);
                }
                var mediaType = response.Content.Headers.ContentType?.MediaType;
                if (Digest.TryParse(HeaderValue(response, "Docker-Content-Digest"), out var digest)
                    && MediaTypes.IsManifest(mediaType)
                    && response.Content.Headers.ContentLength is { } size)
                {
                    return new RegistryManifestInfo(digest, mediaType!, size);
                }
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw _client.TimedOut(what, ex);
            }
        }
        var manifest = await GetManifestAsync(repository, tag, cancellationToken);
        return manifest is null ? null : new RegistryManifestInfo(manifest.Digest, manifest.MediaType, manifest.Content.Length);
    }

    /// <summary>
    /// The manifest <paramref name="reference"/> (tag or digest) of <paramref name="repository"/>, or
    /// null when the registry does not have it. Accepts the Docker and OCI manifest and index types.
    /// </summary>
    /// <exception cref="ArgumentException">The repository name or reference is invalid.</exception>
    /// <exception cref="DigestMismatchException">The bytes do not match the requested digest or the registry's Docker-Content-Digest.</exception>
    /// <exception cref="InvalidDataException">The answer is larger than 4 MiB or not a supported manifest.</exception>
    public async Task<RegistryManifest?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        var repo = _client.Address.Repository(repository);
        var requested = CheckReference(reference);
        var url = ManifestUrl(repo, reference);
        var what = $"GET manifest {repo}:{reference}";
        using var timeout = _client.StartTimeout(cancellationToken);
        try
        {
            using var response = await _client.SendAsync(() => ManifestRequest(HttpMethod.Get, url), RegistryClient.PullScope(repo), replayable: true, timeout.Token);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw await _client.FailureAsync(response, what, timeout.Token);
            }
            var content = await RegistryClient.ReadSmallAsync(response, ManifestDocument.MaxSize, $"manifest {repo}:{reference}", timeout.Token);
            var digest = Digest.Compute(content);
            if (requested is { } expected && expected != digest)
            {
                throw new DigestMismatchException(expected, digest);
            }
            if (Digest.TryParse(HeaderValue(response, "Docker-Content-Digest"), out var announced) && announced != digest)
            {
                throw new DigestMismatchException(announced, digest);
            }
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (!MediaTypes.IsManifest(mediaType))
            {
                if (!ManifestDocument.TryParse(content, mediaType, out var parsed, out var error))
                {
                    throw new InvalidDataException($"{what}: {error}");
                }
                mediaType = parsed!.MediaType;
            }
            return new RegistryManifest(digest, mediaType!, content);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw _client.TimedOut(what, ex);
        }
    }

    /// <summary>
    /// One page of the tags of <paramref name="repository"/>: at most <paramref name="n"/> (the
    /// registry's default when null), after tag <paramref name="last"/>. An unknown repository has no tags.
    /// </summary>
    public async Task<RegistryTagPage> ListTagsAsync(string repository, int? n = null, string? last = null, CancellationToken cancellationToken = default)
    {
        var repo = _client.Address.Repository(repository);
        if (n is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count, nameof(n));
        }
        var query = new List<string>();
        if (n is not null)
        {
            query.Add("n=" + n.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (!string.IsNullOrEmpty(last))
        {
            query.Add("last=" + Uri.EscapeDataString(last));
        }
        var url = _client.Address.Api($"v2/{repo}/tags/list" + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty));
        var (tags, next) = await GetTagPageAsync(repo, url, cancellationToken);
        return new RegistryTagPage(tags, next is null ? null : QueryValue(next, "last") ?? (tags.Count > 0 ? tags[^1] : null));
    }

    /// <summary>Every tag of <paramref name="repository"/>, following the registry's <c>Link</c> pagination.</summary>
    public async IAsyncEnumerable<string> ListAllTagsAsync(string repository, int pageSize = 1000, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var repo = _client.Address.Repository(repository);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        Uri? url = _client.Address.Api($"v2/{repo}/tags/list?n={pageSize.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        var pages = 0;
        while (url is not null)
        {
            if (++pages > 100_000)
            {
                throw new RegistryException($"registry {_client.Address} paginated the tags of {repo} without end");
            }
            var (tags, next) = await GetTagPageAsync(repo, url, cancellationToken);
            foreach (var tag in tags)
            {
                yield return tag;
            }
            url = next;
        }
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private async Task<(IReadOnlyList<string> Tags, Uri? Next)> GetTagPageAsync(string repo, Uri url, CancellationToken cancellationToken)
    {
        var what = $"listing the tags of {repo}";
        using var timeout = _client.StartTimeout(cancellationToken);
        try
        {
            using var response = await _client.SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                return request;
            }, RegistryClient.PullScope(repo), replayable: true, timeout.Token);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return ([], null);
            }
            if (!response.IsSuccessStatusCode)
            {
                throw await _client.FailureAsync(response, what, timeout.Token);
            }
            var body = await RegistryClient.ReadSmallAsync(response, RegistryClient.MaxSmallBody, "tag list", timeout.Token);
            var tags = new List<string>();
            try
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("tags", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var tag in list.EnumerateArray())
                    {
                        if (tag.ValueKind == JsonValueKind.String && tag.GetString() is { Length: > 0 } text)
                        {
                            tags.Add(text);
                        }
                    }
                }
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{what}: registry {_client.Address} answered invalid JSON: {ex.Message}", ex);
            }
            return (tags, NextLink(response, url));
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw _client.TimedOut(what, ex);
        }
    }

    /// <summary>The <c>rel="next"</c> target of the answer's Link header, resolved against the request URL.</summary>
    private static Uri? NextLink(HttpResponseMessage response, Uri requestUrl)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }
        foreach (var value in values)
        {
            foreach (var link in value.Split(','))
            {
                var open = link.IndexOf('<', StringComparison.Ordinal);
                var close = link.IndexOf('>', StringComparison.Ordinal);
                if (open < 0 || close <= open)
                {
                    continue;
                }
                var parameters = AuthChallenge.ParseParameters(link[(close + 1)..].Replace(';', ','));
                if (!parameters.TryGetValue("rel", out var rel) || !rel.Split(' ').Contains("next", StringComparer.OrdinalIgnoreCase))
                {
                    continue;
                }
                if (Uri.TryCreate(requestUrl, link[(open + 1)..close].Trim(), out var target)
                    && (target.Scheme == Uri.UriSchemeHttp || target.Scheme == Uri.UriSchemeHttps))
                {
                    return target;
                }
            }
        }
        return null;
    }

    private static string? QueryValue(Uri uri, string name)
    {
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? pair : pair[..equals];
            if (string.Equals(Uri.UnescapeDataString(key), name, StringComparison.Ordinal))
            {
                return equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..]);
            }
        }
        return null;
    }

    private Uri ManifestUrl(string repo, string reference) => _client.Address.Api($"v2/{repo}/manifests/{reference}");

    private static HttpRequestMessage ManifestRequest(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        foreach (var type in MediaTypes.Manifests)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }
        return request;
    }

    private static string? HeaderValue(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()?.Trim() : null;

    /// <summary>Validates a tag or digest reference; returns the digest when it is one.</summary>
    private static Digest? CheckReference(string reference, [CallerArgumentExpression(nameof(reference))] string? paramName = null)
    {
        if (reference is not null && Digest.LooksLikeDigest(reference))
        {
            return Digest.TryParse(reference, out var digest, out var error) ? digest : throw new ArgumentException(error, paramName);
        }
        return RepositoryName.IsValidTag(reference) ? null : throw new ArgumentException($"invalid tag '{reference}'", paramName);
    }
}
