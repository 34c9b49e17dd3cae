using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Preheat;

/// <summary>A preheat step failed for a reason worth showing to the operator.</summary>
internal sealed class PreheatException(string message) : Exception(message);

/// <summary>A fetched, parsed and verified manifest.</summary>
internal sealed record FetchedManifest(Digest Digest, ManifestDocument Document, long Size);

/// <summary>The configured upstream registries and how a manifest URL maps onto them.</summary>
internal sealed class UpstreamRegistry(PreheatOptions options)
{
    private readonly (Uri Base, PreheatUpstream Config)[] _upstreams = options.Upstreams.Select(u => (ServiceEndpoint.Parse(u.Url), u)).ToArray();

    /// <summary>The upstream whose scheme, host, port and path prefix contain <paramref name="url"/>, or null.</summary>
    public (Uri Base, PreheatUpstream Config)? Match(Uri url)
    {
        foreach (var upstream in _upstreams)
        {
            if (upstream.Base.Scheme == url.Scheme
                && string.Equals(upstream.Base.IdnHost, url.IdnHost, StringComparison.OrdinalIgnoreCase)
                && upstream.Base.Port == url.Port
                && url.AbsolutePath.StartsWith(upstream.Base.AbsolutePath, StringComparison.Ordinal))
            {
                return upstream;
            }
        }
        return null;
    }

    /// <summary>The upstream whose <c>host[:port]</c> is <paramref name="authority"/> (Harbor's resource URLs carry no scheme), or null.</summary>
    public (Uri Base, PreheatUpstream Config)? MatchAuthority(string authority)
    {
        foreach (var upstream in _upstreams)
        {
            if (string.Equals(upstream.Base.Authority, authority, StringComparison.OrdinalIgnoreCase)
                || string.Equals($"{upstream.Base.Host}:{upstream.Base.Port}", authority, StringComparison.OrdinalIgnoreCase))
            {
                return upstream;
            }
        }
        return null;
    }

    public PreheatUpstream? Config(string baseUrl)
        => _upstreams.FirstOrDefault(u => u.Base.AbsoluteUri == ServiceEndpoint.Parse(baseUrl).AbsoluteUri).Config;

    /// <summary>
    /// Splits a manifest URL (<c>&lt;base&gt;/v2/&lt;repo&gt;/manifests/&lt;reference&gt;</c>) of a configured upstream.
    /// Null with an error when the URL is not one.
    /// </summary>
    public PreheatRequest? Resolve(string? url, out string? error)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            error = $"url '{url}' is not an absolute http(s) URL";
            return null;
        }
        if (Match(uri) is not { } upstream)
        {
            error = $"url '{url}' is not on a configured upstream registry (proxy:preheat:upstreams)";
            return null;
        }
        var path = Uri.UnescapeDataString(uri.AbsolutePath[upstream.Base.AbsolutePath.Length..]);
        const string marker = "/manifests/";
        var at = path.LastIndexOf(marker, StringComparison.Ordinal);
        if (!path.StartsWith("v2/", StringComparison.Ordinal) || at < 0)
        {
            error = $"url '{url}' is not a manifest URL (<registry>/v2/<repository>/manifests/<reference>)";
            return null;
        }
        var repository = path[3..at];
        var reference = path[(at + marker.Length)..];
        if (!RepositoryName.IsValid(repository, out var nameError))
        {
            error = $"url '{url}': {nameError}";
            return null;
        }
        if (!Digest.LooksLikeDigest(reference) ? !RepositoryName.IsValidTag(reference) : !Digest.TryParse(reference, out _))
        {
            error = $"url '{url}': '{reference}' is neither a tag nor a sha256 digest";
            return null;
        }
        error = null;
        return new PreheatRequest
        {
            Repository = repository,
            Reference = reference,
            Digest = Digest.LooksLikeDigest(reference) ? reference : null,
            Upstream = upstream.Base.AbsoluteUri,
            Url = uri.AbsoluteUri,
        };
    }
}

/// <summary>Fetches manifests for preheating: from a configured upstream registry, or from Shoal itself.</summary>
internal sealed class ManifestSource(HttpClient http, UpstreamRegistry upstreams, BuildIndexClient buildIndex, OriginCluster origins)
{
    private static readonly string Accept = string.Join(", ", MediaTypes.Manifests);

    public async Task<FetchedManifest> FetchAsync(PreheatRequest request, IReadOnlyDictionary<string, string> headers, string reference, CancellationToken cancellationToken)
    {
        var (bytes, contentType) = request.Upstream is null
            ? await FetchFromShoalAsync(request.Repository, reference, cancellationToken)
            : await FetchFromUpstreamAsync(request.Upstream, request.Repository, reference, headers, cancellationToken);
        var digest = Digest.Compute(bytes);
        if (Digest.LooksLikeDigest(reference) && digest.ToString() != reference)
        {
            throw new PreheatException($"manifest {reference} of {request.Repository} has digest {digest}: the registry served other content");
        }
        if (!ManifestDocument.TryParse(bytes, contentType, out var document, out var error))
        {
            throw new PreheatException($"manifest {reference} of {request.Repository}: {error}");
        }
        return new FetchedManifest(digest, document!, bytes.Length);
    }

    private async Task<(byte[] Bytes, string? ContentType)> FetchFromShoalAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        Digest digest;
        if (Digest.LooksLikeDigest(reference))
        {
            digest = Digest.Parse(reference);
        }
        else
        {
            digest = await buildIndex.GetTagAsync(repository, reference, cancellationToken)
                ?? throw new PreheatException($"{repository}:{reference} is not in Shoal's build-index");
        }
        var record = await buildIndex.GetManifestAsync(repository, digest, cancellationToken)
            ?? throw new PreheatException($"manifest {digest} of {repository} is not in Shoal's build-index");
        await using var blob = await origins.OpenReadAsync(digest, repository, range: null, cancellationToken)
            ?? throw new PreheatException($"manifest {digest} of {repository} is in build-index but no origin has it");
        return (await ReadAtMostAsync(blob.Content, cancellationToken), record.MediaType);
    }

    private async Task<(byte[] Bytes, string? ContentType)> FetchFromUpstreamAsync(string baseUrl, string repository, string reference, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        var baseUri = ServiceEndpoint.Parse(baseUrl);
        var url = new Uri(baseUri, $"v2/{ServiceEndpoint.EscapeName(repository)}/manifests/{Uri.EscapeDataString(reference)}");
        var config = upstreams.Config(baseUrl);
        var passed = headers.Count > 0;
        AuthenticationHeaderValue? auth = null;
        if (!passed && config?.Username is not null)
        {
            auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{config.Username}:{config.Password}")));
        }
        for (var attempt = 0; ; attempt++)
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, url);
            message.Headers.TryAddWithoutValidation("Accept", Accept);
            foreach (var (name, value) in headers)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
            if (auth is not null)
            {
                message.Headers.Authorization = auth;
            }
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                throw new PreheatException($"upstream {baseUri.GetLeftPart(UriPartial.Authority)} does not answer: {ex.Message}");
            }
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized && !passed && attempt == 0
                    && response.Headers.WwwAuthenticate.FirstOrDefault(h => h.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)) is { } challenge)
                {
                    auth = new AuthenticationHeaderValue("Bearer", await GetTokenAsync(challenge, config, cancellationToken));
                    continue;
                }
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    throw new PreheatException(passed
                        ? $"upstream answered {(int)response.StatusCode} for {url}: the pull token passed with the request has expired or does not grant pull access"
                        : $"upstream answered {(int)response.StatusCode} for {url}: check the credentials of proxy:preheat:upstreams");
                }
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new PreheatException($"upstream has no manifest {repository}:{reference} ({url} answered 404)");
                }
                if (!response.IsSuccessStatusCode)
                {
                    throw new PreheatException($"upstream answered {(int)response.StatusCode} for {url}");
                }
                if (response.Content.Headers.ContentLength > ManifestDocument.MaxSize)
                {
                    throw new PreheatException($"manifest {url} is larger than {ManifestDocument.MaxSize} bytes");
                }
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                return (await ReadAtMostAsync(body, cancellationToken), response.Content.Headers.ContentType?.MediaType);
            }
        }
    }

    /// <summary>The registry token dance: GET realm?service=&amp;scope= (with the configured credentials, if any).</summary>
    private async Task<string> GetTokenAsync(AuthenticationHeaderValue challenge, PreheatUpstream? config, CancellationToken cancellationToken)
    {
        var parameters = (challenge.Parameter ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0].ToLowerInvariant(), p => p[1].Trim('"'));
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme is not ("http" or "https"))
        {
            throw new PreheatException("upstream asked for a bearer token without a usable realm");
        }
        var query = new List<string>();
        foreach (var name in new[] { "service", "scope" })
        {
            if (parameters.TryGetValue(name, out var value))
            {
                query.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }
        var tokenUrl = new UriBuilder(realmUri) { Query = string.Join('&', query) }.Uri;
        using var message = new HttpRequestMessage(HttpMethod.Get, tokenUrl);
        if (config?.Username is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{config.Username}:{config.Password}")));
        }
        using var response = await http.SendAsync(message, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new PreheatException($"token service {realmUri.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode}");
        }
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        foreach (var name in new[] { "token", "access_token" })
        {
            if (json.RootElement.TryGetProperty(name, out var token) && token.ValueKind == JsonValueKind.String)
            {
                return token.GetString()!;
            }
        }
        throw new PreheatException($"token service {realmUri.GetLeftPart(UriPartial.Path)} answered without a token");
    }

    private static async Task<byte[]> ReadAtMostAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > ManifestDocument.MaxSize)
            {
                throw new PreheatException($"manifest is larger than {ManifestDocument.MaxSize} bytes");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
