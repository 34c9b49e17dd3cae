using System.Net;
using System.Net.Http.Headers;
using Google;
using Google.Cloud.Storage.V1;
using Shoal.Storage.Internal;

namespace Shoal.Storage.Gcs;

/// <summary>
/// A backend on Google Cloud Storage: object <c>a/b</c> is object <c>&lt;prefix&gt;a/b</c> in the
/// configured bucket.
/// </summary>
/// <remarks>
/// Uploads are resumable uploads in chunks of <see cref="GcsBackendOptions.ChunkSize"/> (one chunk
/// buffered at a time); GCS makes the object visible only when the last chunk arrives, so a failed
/// upload leaves the previous state. Reads are streamed <c>alt=media</c> GETs with a Range header.
/// </remarks>
public sealed class GcsBackend : IBlobBackend, IDisposable
{
    private const int ChunkAlignment = 256 * 1024;

    private readonly StorageClient _client;
    private readonly GcsBackendOptions _options;
    private readonly string _keyPrefix;
    private readonly int _chunkSize;

    /// <summary>Connects with the given options.</summary>
    public GcsBackend(GcsBackendOptions options)
        : this(CreateClient(options), options)
    {
    }

    /// <summary>Uses <paramref name="client"/>, which it then owns.</summary>
    public GcsBackend(StorageClient client, GcsBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Bucket))
        {
            throw new ArgumentException("a gcs backend needs a bucket", nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ChunkSize, nameof(options.ChunkSize));
        _client = client;
        _options = options;
        _keyPrefix = KeyPrefix.Normalize(options.Prefix, "gcs prefix");
        _chunkSize = (int)Math.Min(int.MaxValue / ChunkAlignment * ChunkAlignment, (options.ChunkSize + (long)ChunkAlignment - 1) / ChunkAlignment * ChunkAlignment);
    }

    /// <inheritdoc />
    public async Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken)
    {
        var key = KeyOf(name);
        try
        {
            var item = await _client.GetObjectAsync(_options.Bucket, key, cancellationToken: cancellationToken);
            return new BackendObject(name, (long)(item.Size ?? 0), item.UpdatedDateTimeOffset);
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
    {
        var key = KeyOf(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        }
        if (length == 0)
        {
            return await EmptyRead.IfExistsAsync(this, name, offset, cancellationToken);
        }
        // The library's download writes into a stream; a plain GET through its authenticated
        // HttpClient gives a stream to read from instead.
        var url = $"{_client.Service.BaseUri.TrimEnd('/')}/b/{Uri.EscapeDataString(_options.Bucket)}/o/{Uri.EscapeDataString(key)}?alt=media";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (offset > 0 || length is not null)
        {
            request.Headers.Range = new RangeHeaderValue(offset, length is { } n ? offset + n - 1 : null);
        }
        var response = await _client.Service.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        switch (response.StatusCode)
        {
            case HttpStatusCode.OK or HttpStatusCode.PartialContent:
                return new LimitedReadStream(await response.Content.ReadAsStreamAsync(cancellationToken), owner: response);
            case HttpStatusCode.NotFound:
                response.Dispose();
                return null;
            case HttpStatusCode.RequestedRangeNotSatisfiable:
                response.Dispose();
                return await EmptyRead.IfExistsAsync(this, name, offset, cancellationToken);
            default:
                using (response)
                {
                    var body = await response.Content.ReadAsStringAsync(cancellationToken);
                    throw new HttpRequestException($"gcs GET of '{key}' answered {(int)response.StatusCode}: {Truncate(body)}", null, response.StatusCode);
                }
        }
    }

    /// <inheritdoc />
    public async Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        var key = KeyOf(name);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        await _client.UploadObjectAsync(_options.Bucket, key, "application/octet-stream",
            new ExactLengthReadStream(content, length, name),
            new UploadObjectOptions { ChunkSize = _chunkSize },
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
    {
        if (!BackendNames.IsValidPrefix(prefix, out var error))
        {
            throw new ArgumentException(error, nameof(prefix));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        // One request per page: the raw list call gives GCS's own page token, which is opaque.
        var request = _client.Service.Objects.List(_options.Bucket);
        request.Prefix = _keyPrefix + prefix;
        request.MaxResults = Math.Min(limit, 1000);
        request.PageToken = continuationToken;
        var response = await request.ExecuteAsync(cancellationToken);
        var objects = new List<BackendObject>(response.Items?.Count ?? 0);
        foreach (var item in response.Items ?? [])
        {
            var itemName = item.Name[_keyPrefix.Length..];
            if (BackendNames.IsValid(itemName, out _))
            {
                objects.Add(new BackendObject(itemName, (long)(item.Size ?? 0), item.UpdatedDateTimeOffset));
            }
        }
        objects.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new BackendListPage(objects, string.IsNullOrEmpty(response.NextPageToken) ? null : response.NextPageToken);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var key = KeyOf(name);
        try
        {
            await _client.DeleteObjectAsync(_options.Bucket, key, cancellationToken: cancellationToken);
            return true;
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    private string KeyOf(string name)
    {
        BackendNames.Validate(name);
        return _keyPrefix + name;
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] : text;

    private static StorageClient CreateClient(GcsBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new StorageClientBuilder();
        if (!string.IsNullOrEmpty(options.Endpoint))
        {
            builder.BaseUri = options.Endpoint.EndsWith('/') ? options.Endpoint : options.Endpoint + "/";
        }
        if (!string.IsNullOrEmpty(options.CredentialsFile))
        {
            // A service-account key file: the type is fixed so that a file of another kind (which
            // could name arbitrary token endpoints or commands) is refused.
            builder.GoogleCredential = Google.Apis.Auth.OAuth2.CredentialFactory
                .FromFile<Google.Apis.Auth.OAuth2.ServiceAccountCredential>(options.CredentialsFile)
                .ToGoogleCredential()
                .CreateScoped("https://www.googleapis.com/auth/devstorage.read_write");
        }
        else if (!string.IsNullOrEmpty(options.Endpoint))
        {
            builder.UnauthenticatedAccess = true;
        }
        return builder.Build();
    }
}
