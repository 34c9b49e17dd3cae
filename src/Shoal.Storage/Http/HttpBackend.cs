using System.Net;
using System.Net.Http.Headers;
using Shoal.Storage.Internal;

namespace Shoal.Storage.Http;

/// <summary>
/// A backend on a plain HTTP server: objects are read with GET (Range for partial reads), stat'ed
/// with HEAD, written with PUT or POST and deleted with DELETE, at URLs built from templates with a
/// <c>{name}</c> placeholder.
/// </summary>
/// <remarks>
/// HTTP has no listing convention, so <see cref="ListAsync"/> throws <see cref="NotSupportedException"/>:
/// do not use this backend where a component enumerates its store (e.g. build-index tag listing).
/// Deletes need <see cref="HttpBackendOptions.DeleteUrl"/>. Whether an upload is invisible until
/// complete is up to the server; servers that write to a temp file and rename (nginx's dav module,
/// most object stores) do so. Bodies are streamed both ways.
/// </remarks>
public sealed class HttpBackend : IBlobBackend, IDisposable
{
    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly HttpBackendOptions _options;
    private readonly HttpMethod _uploadMethod;

    /// <summary>Uses its own <see cref="HttpClient"/>.</summary>
    public HttpBackend(HttpBackendOptions options)
        : this(new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }), options, ownsClient: true)
    {
    }

    /// <summary>Uses <paramref name="client"/> (e.g. one with the component's TLS settings).</summary>
    public HttpBackend(HttpClient client, HttpBackendOptions options)
        : this(client, options, ownsClient: false)
    {
    }

    private HttpBackend(HttpClient client, HttpBackendOptions options, bool ownsClient)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        CheckTemplate(options.DownloadUrl, nameof(options.DownloadUrl));
        CheckTemplate(options.UploadUrl, nameof(options.UploadUrl));
        if (!string.IsNullOrEmpty(options.DeleteUrl))
        {
            CheckTemplate(options.DeleteUrl, nameof(options.DeleteUrl));
        }
        _uploadMethod = options.UploadMethod.ToUpperInvariant() switch
        {
            "PUT" => HttpMethod.Put,
            "POST" => HttpMethod.Post,
            _ => throw new ArgumentException($"http uploadMethod must be PUT or POST, not '{options.UploadMethod}'", nameof(options)),
        };
        _client = client;
        _ownsClient = ownsClient;
        _options = options;
        if (ownsClient)
        {
            _client.Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        }
    }

    /// <inheritdoc />
    public async Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Head, _options.DownloadUrl, name);
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        EnsureSuccess(response, "HEAD", name);
        var size = response.Content.Headers.ContentLength
            ?? throw new HttpRequestException($"HEAD of '{name}' answered no Content-Length");
        return new BackendObject(name, size, response.Content.Headers.LastModified);
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, _options.DownloadUrl, name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        }
        if (length == 0)
        {
            return await EmptyIfWithinAsync(name, offset, cancellationToken);
        }
        var ranged = offset > 0 || length is not null;
        if (ranged)
        {
            request.Headers.Range = new RangeHeaderValue(offset, length is { } n ? offset + n - 1 : null);
        }
        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotFound:
                    response.Dispose();
                    return null;
                case HttpStatusCode.RequestedRangeNotSatisfiable:
                    response.Dispose();
                    return await EmptyIfWithinAsync(name, offset, cancellationToken);
                case HttpStatusCode.PartialContent:
                    return new LimitedReadStream(await response.Content.ReadAsStreamAsync(cancellationToken), owner: response);
                case HttpStatusCode.OK:
                    var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                    if (!ranged)
                    {
                        return new LimitedReadStream(body, owner: response);
                    }
                    // The server ignored the Range: skip to the offset and cut at the length.
                    Stream stream = new LimitedReadStream(body, owner: response);
                    await SkipAsync(stream, offset, name, cancellationToken);
                    return length is { } limit ? new LimitedReadStream(stream, limit) : stream;
                default:
                    EnsureSuccess(response, "GET", name);
                    throw new HttpRequestException($"GET of '{name}' answered {(int)response.StatusCode}");
            }
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        using var request = Request(_uploadMethod, _options.UploadUrl, name);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        request.Content = new StreamContent(new ExactLengthReadStream(content, length, name));
        request.Content.Headers.ContentLength = length;
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        EnsureSuccess(response, _uploadMethod.Method, name);
    }

    /// <summary>Not supported: HTTP servers have no common listing format.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
        => throw new NotSupportedException("the http backend cannot list objects (HTTP has no listing convention); use a filesystem, s3, gcs or hdfs backend where listing is needed");

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">No <see cref="HttpBackendOptions.DeleteUrl"/> is configured.</exception>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        BackendNames.Validate(name);
        if (string.IsNullOrEmpty(_options.DeleteUrl))
        {
            throw new NotSupportedException("the http backend has no deleteUrl configured, so it cannot delete objects");
        }
        using var request = Request(HttpMethod.Delete, _options.DeleteUrl, name);
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return false;
        }
        EnsureSuccess(response, "DELETE", name);
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string template, string name)
    {
        BackendNames.Validate(name);
        // Valid names contain only URL-safe characters, so they go into the URL as they are.
        var request = new HttpRequestMessage(method, template.Replace("{name}", name, StringComparison.Ordinal));
        foreach (var (header, value) in _options.Headers)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }
        return request;
    }

    private async Task<Stream?> EmptyIfWithinAsync(string name, long offset, CancellationToken cancellationToken)
    {
        var stat = await StatAsync(name, cancellationToken);
        if (stat is null)
        {
            return null;
        }
        if (offset > stat.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offset is past the end of '{name}' ({stat.Size} bytes)");
        }
        return new MemoryStream([], writable: false);
    }

    private static async Task SkipAsync(Stream stream, long offset, string name, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(offset, 81920)];
        var left = offset;
        while (left > 0)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken);
            if (read == 0)
            {
                await stream.DisposeAsync();
                throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offset is past the end of '{name}'");
            }
            left -= read;
        }
    }

    private static void EnsureSuccess(HttpResponseMessage response, string verb, string name)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{verb} of '{name}' answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }
    }

    private static void CheckTemplate(string? template, string option)
    {
        if (string.IsNullOrWhiteSpace(template) || !template.Contains("{name}", StringComparison.Ordinal))
        {
            throw new ArgumentException($"http {option} must be a URL template containing {{name}}", option);
        }
        if (!Uri.TryCreate(template.Replace("{name}", "x", StringComparison.Ordinal), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"http {option} '{template}' is not an http(s) URL", option);
        }
    }
}
