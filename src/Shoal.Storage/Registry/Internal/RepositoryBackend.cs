using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.Storage.Internal;

namespace Shoal.Storage.Registry.Internal;

/// <summary>
/// The blobs of one repository of a registry as a <see cref="IBlobBackend"/>: object
/// <c>blobs/sha256/&lt;hex&gt;</c> is <c>/v2/&lt;repository&gt;/blobs/sha256:&lt;hex&gt;</c>.
/// Reads and stats fall back to <c>/v2/&lt;repository&gt;/manifests/sha256:&lt;hex&gt;</c> when the
/// blob endpoint answers 404: a registry keeps manifests apart from the repository's blobs, and
/// origins fetch manifest bytes by digest like any blob (Kraken's registry backend does the same).
/// </summary>
internal sealed class RepositoryBackend : IBlobBackend
{
    private readonly RegistryClient _client;

    public RepositoryBackend(RegistryClient client, string repository)
    {
        _client = client;
        Repository = repository;
    }

    public string Repository { get; }

    public async Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken)
    {
        BackendNames.Validate(name);
        if (!BackendNames.TryParseBlob(name, out var digest))
        {
            return null; // A registry holds blobs only.
        }
        var stat = await StatBlobAsync(digest, cancellationToken);
        return stat is null ? null : new BackendObject(name, stat.Value.Size, stat.Value.LastModified);
    }

    public async Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
    {
        BackendNames.Validate(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        }
        if (!BackendNames.TryParseBlob(name, out var digest))
        {
            return null;
        }
        if (length == 0)
        {
            return await EmptyAtAsync(name, digest, offset, cancellationToken);
        }
        var range = offset == 0 && length is null ? null : new RangeHeaderValue(offset, length is { } n ? offset + n - 1 : null);
        HttpResponseMessage response;
        using (var timeout = _client.StartTimeout(cancellationToken))
        {
            try
            {
                response = await GetAsync(BlobUrl(digest), range, manifest: false, timeout.Token);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    // Not a blob of the repository: perhaps one of its manifests.
                    response.Dispose();
                    response = await GetAsync(ManifestUrl(digest), range, manifest: true, timeout.Token);
                }
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw _client.TimedOut($"GET {digest} in {Repository}", ex);
            }
        }
        try
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotFound:
                    response.Dispose();
                    return null;
                case HttpStatusCode.RequestedRangeNotSatisfiable:
                    response.Dispose();
                    return await EmptyAtAsync(name, digest, offset, cancellationToken);
                case HttpStatusCode.PartialContent:
                {
                    var from = response.Content.Headers.ContentRange?.From;
                    if (from != offset)
                    {
                        throw new RegistryException($"GET {digest} in {Repository}: registry {_client.Address} answered the range from {from?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"} instead of {offset}", response.StatusCode);
                    }
                    var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                    return new LimitedReadStream(body, length, response);
                }
                case HttpStatusCode.OK:
                {
                    // The registry ignored the range: skip to the offset.
                    if (offset > 0 && response.Content.Headers.ContentLength is { } size && offset > size)
                    {
                        throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offset is past the end of '{name}' ({size} bytes)");
                    }
                    var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                    if (offset > 0 && !await SkipAsync(body, offset, cancellationToken))
                    {
                        throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offset is past the end of '{name}'");
                    }
                    return new LimitedReadStream(body, length, response);
                }
                default:
                    throw await _client.FailureAsync(response, $"GET {digest} in {Repository}", cancellationToken);
            }
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        BackendNames.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        RequireWritable("upload to");
        if (!BackendNames.TryParseBlob(name, out var digest))
        {
            throw new NotSupportedException($"a registry stores only blobs (blobs/sha256/<hex>), not '{name}'");
        }
        // Content-addressed: a blob already there under this digest has these very bytes.
        if (await StatBlobAsync(digest, cancellationToken) is { } existing && existing.Size == length)
        {
            return;
        }
        var location = await StartUploadAsync(digest, cancellationToken);
        try
        {
            if (length <= _client.ChunkSize)
            {
                await SendChunkAsync(HttpMethod.Put, WithDigest(location, digest), content, 0, length, isLast: true, digest, cancellationToken);
                return;
            }
            long offset = 0;
            while (offset < length)
            {
                var count = Math.Min(_client.ChunkSize, length - offset);
                location = await SendChunkAsync(HttpMethod.Patch, location, content, offset, count, isLast: offset + count == length, digest, cancellationToken);
                offset += count;
            }
            await SendChunkAsync(HttpMethod.Put, WithDigest(location, digest), null, offset, 0, isLast: true, digest, cancellationToken);
        }
        catch
        {
            await CancelUploadAsync(location);
            throw;
        }
    }

    public Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
        => throw new NotSupportedException($"a registry cannot list its blobs (the distribution API has no blob listing): repository '{Repository}' of {_client.Address} cannot be listed");

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        BackendNames.Validate(name);
        if (!BackendNames.TryParseBlob(name, out var digest))
        {
            return false;
        }
        RequireWritable("delete from");
        var url = BlobUrl(digest);
        using var timeout = _client.StartTimeout(cancellationToken);
        try
        {
            using var response = await _client.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, url), RegistryClient.DeleteScope(Repository), replayable: true, timeout.Token);
            switch (response.StatusCode)
            {
                case HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.NoContent:
                    return true;
                case HttpStatusCode.NotFound:
                    return false;
                case HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented:
                    var failure = await _client.FailureAsync(response, $"DELETE {digest} in {Repository}", timeout.Token);
                    throw new NotSupportedException($"registry {_client.Address} does not allow deleting blobs (deletion is disabled on the registry): {failure.Message}", failure);
                default:
                    throw await _client.FailureAsync(response, $"DELETE {digest} in {Repository}", timeout.Token);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw _client.TimedOut($"DELETE {digest} in {Repository}", ex);
        }
    }

    /// <summary>The blob's size and modification time, or null when the repository does not have it.</summary>
    internal async Task<(long Size, DateTimeOffset? LastModified)?> StatBlobAsync(Digest digest, CancellationToken cancellationToken)
    {
        var url = BlobUrl(digest);
        var what = $"HEAD {digest} in {Repository}";
        using var timeout = _client.StartTimeout(cancellationToken);
        try
        {
            using (var head = await _client.SendAsync(() => new HttpRequestMessage(HttpMethod.Head, url), RegistryClient.PullScope(Repository), replayable: true, timeout.Token))
            {
                if (head.StatusCode == HttpStatusCode.NotFound)
                {
                    return await StatManifestAsync(digest, timeout.Token);
                }
                if (head.IsSuccessStatusCode && head.Content.Headers.ContentLength is { } size)
                {
                    return (size, head.Content.Headers.LastModified);
                }
                var redirected = head.RequestMessage?.RequestUri is { } final && final.Authority != url.Authority;
                if (!head.IsSuccessStatusCode && !redirected)
                {
                    throw await _client.FailureAsync(head, what, timeout.Token);
                }
            }
            // No length, or storage behind a redirect that does not answer HEAD: ask for the first byte.
            using var get = await _client.SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Range = new RangeHeaderValue(0, 0);
                return request;
            }, RegistryClient.PullScope(Repository), replayable: true, timeout.Token);
            var lastModified = get.Content.Headers.LastModified;
            return get.StatusCode switch
            {
                HttpStatusCode.NotFound => null,
                HttpStatusCode.PartialContent or HttpStatusCode.RequestedRangeNotSatisfiable when get.Content.Headers.ContentRange?.Length is { } total => (total, lastModified),
                HttpStatusCode.OK when get.Content.Headers.ContentLength is { } total => (total, lastModified),
                _ => throw await _client.FailureAsync(get, what, timeout.Token),
            };
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw _client.TimedOut(what, ex);
        }
    }

    /// <summary>The size of manifest <paramref name="digest"/> of the repository, or null when it has no such manifest.</summary>
    private async Task<(long Size, DateTimeOffset? LastModified)?> StatManifestAsync(Digest digest, CancellationToken cancellationToken)
    {
        var url = ManifestUrl(digest);
        using (var head = await _client.SendAsync(() => ManifestRequest(HttpMethod.Head, url), RegistryClient.PullScope(Repository), replayable: true, cancellationToken))
        {
            if (head.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            if (!head.IsSuccessStatusCode)
            {
                throw await _client.FailureAsync(head, $"HEAD manifest {digest} in {Repository}", cancellationToken);
            }
            if (head.Content.Headers.ContentLength is { } size)
            {
                return (size, head.Content.Headers.LastModified);
            }
        }
        // No length on HEAD: manifests are small (at most 4 MiB), count the bytes of a GET.
        using var get = await _client.SendAsync(() => ManifestRequest(HttpMethod.Get, url), RegistryClient.PullScope(Repository), replayable: true, cancellationToken);
        if (get.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (!get.IsSuccessStatusCode)
        {
            throw await _client.FailureAsync(get, $"GET manifest {digest} in {Repository}", cancellationToken);
        }
        var content = await RegistryClient.ReadSmallAsync(get, Shoal.Core.Registry.ManifestDocument.MaxSize, $"manifest {digest} in {Repository}", cancellationToken);
        return (content.Length, get.Content.Headers.LastModified);
    }

    private Task<HttpResponseMessage> GetAsync(Uri url, RangeHeaderValue? range, bool manifest, CancellationToken cancellationToken)
        => _client.SendAsync(() =>
        {
            var request = manifest ? ManifestRequest(HttpMethod.Get, url) : new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Range = range;
            return request;
        }, RegistryClient.PullScope(Repository), replayable: true, cancellationToken);

    /// <summary>A manifest request accepting every manifest and index media type (a registry answers only those it is asked for).</summary>
    private static HttpRequestMessage ManifestRequest(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        foreach (var type in Shoal.Core.Registry.MediaTypes.Manifests)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }
        return request;
    }

    private Uri BlobUrl(Digest digest) => _client.Address.Api($"v2/{Repository}/blobs/{digest}");

    private Uri ManifestUrl(Digest digest) => _client.Address.Api($"v2/{Repository}/manifests/{digest}");

    private void RequireWritable(string what)
    {
        if (!_client.Writable)
        {
            throw new NotSupportedException($"the registry backend {_client.Address} is read-only: set writable: true to {what} it");
        }
    }

    private async Task<Stream?> EmptyAtAsync(string name, Digest digest, long offset, CancellationToken cancellationToken)
        => await StatBlobAsync(digest, cancellationToken) is { } stat ? EmptyRead.At(name, offset, stat.Size) : null;

    private static async Task<bool> SkipAsync(Stream stream, long count, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
        try
        {
            while (count > 0)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken);
                if (read == 0)
                {
                    return false;
                }
                count -= read;
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<Uri> StartUploadAsync(Digest digest, CancellationToken cancellationToken)
    {
        var url = _client.Address.Api($"v2/{Repository}/blobs/uploads/");
        var what = $"starting the upload of {digest} to {Repository}";
        using var timeout = _client.StartTimeout(cancellationToken);
        try
        {
            using var response = await _client.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent([]) },
                RegistryClient.PushScope(Repository), replayable: true, timeout.Token);
            if (response.StatusCode != HttpStatusCode.Accepted || response.Headers.Location is not { } location)
            {
                throw await _client.FailureAsync(response, what, timeout.Token);
            }
            return location.IsAbsoluteUri ? location : new Uri(response.RequestMessage!.RequestUri!, location);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw _client.TimedOut(what, ex);
        }
    }

    /// <summary>
    /// Sends <paramref name="count"/> bytes of <paramref name="content"/> (starting at upload offset
    /// <paramref name="offset"/>) as a PATCH chunk or the closing PUT; returns the next upload location.
    /// The timeout is an idle timeout: it restarts whenever body bytes are written.
    /// </summary>
    private async Task<Uri> SendChunkAsync(HttpMethod method, Uri location, Stream? content, long offset, long count, bool isLast, Digest digest, CancellationToken cancellationToken)
    {
        var what = method == HttpMethod.Put ? $"completing the upload of {digest} to {Repository}" : $"uploading bytes {offset}-{offset + count - 1} of {digest} to {Repository}";
        using var timeout = _client.StartTimeout(cancellationToken);
        UploadContent? body = null;
        try
        {
            using var response = await _client.SendAsync(() =>
            {
                var request = new HttpRequestMessage(method, location);
                if (content is not null)
                {
                    body = new UploadContent(content, count, isLast, () => timeout.CancelAfter(_client.Timeout));
                    if (method == HttpMethod.Patch)
                    {
                        // distribution's form, without a unit: "<start>-<end>".
                        body.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + count - 1}");
                    }
                    request.Content = body;
                }
                else
                {
                    request.Content = new ByteArrayContent([]);
                }
                return request;
            }, RegistryClient.PushScope(Repository), replayable: content is null, timeout.Token);
            var expected = method == HttpMethod.Put ? HttpStatusCode.Created : HttpStatusCode.Accepted;
            if (response.StatusCode == expected)
            {
                var next = response.Headers.Location;
                return next is null ? location : next.IsAbsoluteUri ? next : new Uri(response.RequestMessage!.RequestUri!, next);
            }
            var failure = await _client.FailureAsync(response, what, timeout.Token);
            if (failure.ErrorCode is "DIGEST_INVALID" or "SIZE_INVALID")
            {
                throw new DigestMismatchException($"{failure.Message}: the uploaded content does not match {digest}", failure);
            }
            throw failure;
        }
        catch (Exception ex) when (body?.Failure is { } invalid && ex is not InvalidDataException)
        {
            throw new InvalidDataException(invalid.Message, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw _client.TimedOut(what, ex);
        }
    }

    private static Uri WithDigest(Uri location, Digest digest)
    {
        var builder = new UriBuilder(location);
        var query = builder.Query.TrimStart('?');
        builder.Query = (query.Length > 0 ? query + "&" : string.Empty) + "digest=" + Uri.EscapeDataString(digest.ToString());
        return builder.Uri;
    }

    private async Task CancelUploadAsync(Uri location)
    {
        try
        {
            using var timeout = _client.StartTimeout(CancellationToken.None);
            using var _ = await _client.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, location), RegistryClient.PushScope(Repository), replayable: true, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // Best effort: the registry purges abandoned uploads itself.
        }
    }
}
