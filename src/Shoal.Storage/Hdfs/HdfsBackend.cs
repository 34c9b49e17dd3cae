using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Shoal.Storage.Internal;

namespace Shoal.Storage.Hdfs;

/// <summary>
/// A backend on HDFS through WebHDFS: object <c>a/b</c> is the file <c>&lt;rootPath&gt;/a/b</c>.
/// </summary>
/// <remarks>
/// Uploads follow WebHDFS's two steps (CREATE at the name node answers a redirect to a data node,
/// which receives the streamed bytes) into <c>&lt;rootPath&gt;/~tmp/&lt;random&gt;</c>, then RENAME
/// the file into place, so an object appears whole or not at all. Reads follow OPEN's redirect to a
/// data node and stream. Name nodes are tried in the configured order; one that is unreachable,
/// failing or in standby hands over to the next, and the last one that answered is tried first next time.
/// </remarks>
public sealed class HdfsBackend : IBlobBackend, IDisposable
{
    /// <summary>The directory in-progress uploads are written to, under the root path.</summary>
    public const string TempDirectoryName = "~tmp";

    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly HdfsBackendOptions _options;
    private readonly string[] _nameNodes;
    private readonly string _root;
    private int _active;

    /// <summary>Uses its own <see cref="HttpClient"/>.</summary>
    public HdfsBackend(HdfsBackendOptions options)
        : this(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(options?.TimeoutSeconds ?? 100),
        }, options!, ownsClient: true)
    {
    }

    /// <summary>Uses <paramref name="client"/>, whose handler must not follow redirects itself.</summary>
    public HdfsBackend(HttpClient client, HdfsBackendOptions options)
        : this(client, options, ownsClient: false)
    {
    }

    private HdfsBackend(HttpClient client, HdfsBackendOptions options, bool ownsClient)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (options.NameNodes is not { Count: > 0 })
        {
            throw new ArgumentException("an hdfs backend needs at least one name node", nameof(options));
        }
        foreach (var node in options.NameNodes)
        {
            if (!Uri.TryCreate(node, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"hdfs name node '{node}' is not an http(s) URL", nameof(options));
            }
        }
        var root = (options.RootPath ?? string.Empty).Trim('/');
        if (root.Length > 0 && !BackendNames.IsValid(root, out var error))
        {
            throw new ArgumentException($"hdfs rootPath '{options.RootPath}' is invalid: {error}", nameof(options));
        }
        _client = client;
        _ownsClient = ownsClient;
        _options = options;
        _nameNodes = options.NameNodes.Select(n => n.TrimEnd('/')).ToArray();
        _root = "/" + root;
    }

    /// <inheritdoc />
    public async Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        var status = await GetFileStatusAsync(path, cancellationToken);
        return status is { IsDirectory: false } ? new BackendObject(name, status.Length, status.Modified) : null;
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        }
        if (length == 0)
        {
            return await EmptyRead.IfExistsAsync(this, name, offset, cancellationToken);
        }
        var query = $"op=OPEN&offset={offset.ToString(CultureInfo.InvariantCulture)}&buffersize={_options.BufferSize.ToString(CultureInfo.InvariantCulture)}"
            + (length is { } n ? "&length=" + n.ToString(CultureInfo.InvariantCulture) : "");
        var first = await NameNodeAsync(HttpMethod.Get, path, query, cancellationToken);
        if (first.StatusCode == HttpStatusCode.OK)
        {
            // A name node (or gateway) that serves the data itself.
            return await BodyAsync(first, cancellationToken);
        }
        Uri location;
        using (first)
        {
            if (first.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            if (!IsRedirect(first.StatusCode))
            {
                // Name nodes answer an offset at or past the end with an error: tell that apart from a real one.
                if ((int)first.StatusCode is >= 400 and < 500 && await StatAsync(name, cancellationToken) is var stat
                    && (stat is null || offset >= stat.Size))
                {
                    return stat is null ? null : EmptyRead.At(name, offset, stat.Size);
                }
                throw await FailureAsync(first, "OPEN", path, cancellationToken);
            }
            location = LocationOf(first, "OPEN", path);
        }
        var response = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Get, location), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await FailureAsync(response, "OPEN (data node)", path, cancellationToken);
            }
        }
        return await BodyAsync(response, cancellationToken);
    }

    /// <inheritdoc />
    public async Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var temp = $"{_root.TrimEnd('/')}/{TempDirectoryName}/{Guid.NewGuid():N}";
        try
        {
            await CreateAsync(name, temp, content, length, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            await MkdirsAsync(path[..path.LastIndexOf('/')], cancellationToken);
            if (!await RenameAsync(temp, path, cancellationToken))
            {
                // HDFS's rename never replaces: remove the previous object, then move the new one in.
                await DeleteFileAsync(path, cancellationToken);
                if (!await RenameAsync(temp, path, cancellationToken))
                {
                    throw new IOException($"hdfs could not rename '{temp}' to '{path}'");
                }
            }
        }
        catch
        {
            await DeleteQuietlyAsync(temp);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
    {
        if (!BackendNames.IsValidPrefix(prefix, out var error))
        {
            throw new ArgumentException(error, nameof(prefix));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var directoryPart = prefix[..(prefix.LastIndexOf('/') + 1)];
        var objects = new List<BackendObject>(Math.Min(limit, 1024));
        var more = false;
        await foreach (var entry in WalkAsync(directoryPart, prefix, continuationToken, cancellationToken))
        {
            if (objects.Count == limit)
            {
                more = true;
                break;
            }
            objects.Add(entry);
        }
        return new BackendListPage(objects, more ? objects[^1].Name : null);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        if (await GetFileStatusAsync(path, cancellationToken) is not { IsDirectory: false })
        {
            return false;
        }
        return await DeleteFileAsync(path, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private async Task CreateAsync(string name, string temp, Stream content, long length, CancellationToken cancellationToken)
    {
        var query = $"op=CREATE&overwrite=true&buffersize={_options.BufferSize.ToString(CultureInfo.InvariantCulture)}";
        Uri location;
        using (var redirect = await NameNodeAsync(HttpMethod.Put, temp, query, cancellationToken))
        {
            if (IsRedirect(redirect.StatusCode))
            {
                location = LocationOf(redirect, "CREATE", temp);
            }
            else if (redirect.StatusCode == HttpStatusCode.OK)
            {
                // noredirect-style answer: {"Location": "..."}.
                using var json = await JsonAsync(redirect, cancellationToken);
                location = json.RootElement.TryGetProperty("Location", out var l) && l.GetString() is { } s
                    ? new Uri(s)
                    : throw new IOException($"hdfs CREATE of '{temp}' answered no data node location");
            }
            else
            {
                throw await FailureAsync(redirect, "CREATE", temp, cancellationToken);
            }
        }
        using var request = new HttpRequestMessage(HttpMethod.Put, location)
        {
            Content = new StreamContent(new ExactLengthReadStream(content, length, name), _options.BufferSize),
        };
        request.Content.Headers.ContentLength = length;
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync(response, "CREATE (data node)", temp, cancellationToken);
        }
    }

    private async Task MkdirsAsync(string directory, CancellationToken cancellationToken)
    {
        using var response = await NameNodeAsync(HttpMethod.Put, directory, "op=MKDIRS", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync(response, "MKDIRS", directory, cancellationToken);
        }
        if (!await BooleanAsync(response, cancellationToken))
        {
            throw new IOException($"hdfs could not create the directory '{directory}'");
        }
    }

    private async Task<bool> RenameAsync(string from, string to, CancellationToken cancellationToken)
    {
        using var response = await NameNodeAsync(HttpMethod.Put, from, "op=RENAME&destination=" + Uri.EscapeDataString(to), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync(response, "RENAME", from, cancellationToken);
        }
        return await BooleanAsync(response, cancellationToken);
    }

    private async Task<bool> DeleteFileAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await NameNodeAsync(HttpMethod.Delete, path, "op=DELETE&recursive=false", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync(response, "DELETE", path, cancellationToken);
        }
        return await BooleanAsync(response, cancellationToken);
    }

    private async Task DeleteQuietlyAsync(string path)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await DeleteFileAsync(path, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or JsonException)
        {
            // A leftover temp file is invisible to readers and listings.
        }
    }

    private async Task<FileStatus?> GetFileStatusAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await NameNodeAsync(HttpMethod.Get, path, "op=GETFILESTATUS", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync(response, "GETFILESTATUS", path, cancellationToken);
        }
        using var json = await JsonAsync(response, cancellationToken);
        return FileStatus.From(json.RootElement.GetProperty("FileStatus"));
    }

    /// <summary>
    /// The files under <paramref name="relative"/> in ordinal name order: each directory's entries
    /// sorted with a directory's key ending in '/', skipping subtrees outside the prefix or before the token.
    /// </summary>
    private async IAsyncEnumerable<BackendObject> WalkAsync(string relative, string prefix, string? after,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var directory = relative.Length == 0 ? _root : $"{_root.TrimEnd('/')}/{relative.TrimEnd('/')}";
        List<(string Key, FileStatus Status)> entries;
        using (var response = await NameNodeAsync(HttpMethod.Get, directory, "op=LISTSTATUS", cancellationToken))
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                yield break;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw await FailureAsync(response, "LISTSTATUS", directory, cancellationToken);
            }
            using var json = await JsonAsync(response, cancellationToken);
            var statuses = json.RootElement.GetProperty("FileStatuses").GetProperty("FileStatus");
            entries = new List<(string, FileStatus)>(statuses.GetArrayLength());
            foreach (var element in statuses.EnumerateArray())
            {
                var status = FileStatus.From(element);
                var segment = status.PathSuffix;
                if (segment.Length is 0 or > BackendNames.MaxSegmentLength || segment is "." or ".." || !segment.All(BackendNames.IsNameChar))
                {
                    continue; // the temp directory and anything no valid name could have produced
                }
                entries.Add((relative + segment + (status.IsDirectory ? "/" : ""), status));
            }
        }
        entries.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var (key, status) in entries)
        {
            if (status.IsDirectory)
            {
                var inPrefix = key.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(key, StringComparison.Ordinal);
                var allBeforeToken = after is not null && string.CompareOrdinal(after, key) > 0 && !after.StartsWith(key, StringComparison.Ordinal);
                if (!inPrefix || allBeforeToken)
                {
                    continue;
                }
                await foreach (var nested in WalkAsync(key, prefix, after, cancellationToken))
                {
                    yield return nested;
                }
            }
            else if (key.StartsWith(prefix, StringComparison.Ordinal)
                && (after is null || string.CompareOrdinal(key, after) > 0)
                && key.Length <= BackendNames.MaxLength)
            {
                yield return new BackendObject(key, status.Length, status.Modified);
            }
        }
    }

    /// <summary>
    /// Sends a WebHDFS request to the name nodes in turn, starting with the last one that answered,
    /// until one that is not unreachable, failing (5xx) or in standby answers.
    /// </summary>
    private async Task<HttpResponseMessage> NameNodeAsync(HttpMethod method, string path, string query, CancellationToken cancellationToken)
    {
        var user = string.IsNullOrEmpty(_options.User) ? "" : "&user.name=" + Uri.EscapeDataString(_options.User);
        Exception? last = null;
        var start = Volatile.Read(ref _active);
        for (var i = 0; i < _nameNodes.Length; i++)
        {
            var index = (start + i) % _nameNodes.Length;
            var url = $"{_nameNodes[index]}/webhdfs/v1{path}?{query}{user}";
            HttpResponseMessage response;
            try
            {
                response = await _client.SendAsync(new HttpRequestMessage(method, url), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                last = ex;
                continue;
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                last = new TimeoutException($"hdfs name node {_nameNodes[index]} timed out", ex);
                continue;
            }
            if ((int)response.StatusCode >= 500 || await IsStandbyAsync(response, cancellationToken))
            {
                last = new HttpRequestException($"hdfs name node {_nameNodes[index]} answered {(int)response.StatusCode} (failing or standby)", null, response.StatusCode);
                response.Dispose();
                continue;
            }
            Volatile.Write(ref _active, index);
            return response;
        }
        throw new HttpRequestException($"no hdfs name node answered {method} {path}: {last?.Message}", last);
    }

    private static async Task<bool> IsStandbyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.StatusCode != HttpStatusCode.Forbidden)
        {
            return false;
        }
        // Buffering makes the (small) error body readable again by whoever handles the answer.
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return body.Contains("StandbyException", StringComparison.Ordinal);
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.TemporaryRedirect or HttpStatusCode.Redirect or HttpStatusCode.SeeOther or HttpStatusCode.PermanentRedirect;

    private static Uri LocationOf(HttpResponseMessage response, string op, string path)
    {
        var location = response.Headers.Location ?? throw new IOException($"hdfs {op} of '{path}' redirected without a Location");
        return location.IsAbsoluteUri ? location : new Uri(response.RequestMessage!.RequestUri!, location);
    }

    private static async Task<Stream> BodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        return new LimitedReadStream(await response.Content.ReadAsStreamAsync(cancellationToken), owner: response);
    }

    private static async Task<JsonDocument> JsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
    }

    private static async Task<bool> BooleanAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var json = await JsonAsync(response, cancellationToken);
        return json.RootElement.TryGetProperty("boolean", out var value) && value.ValueKind == JsonValueKind.True;
    }

    private static async Task<Exception> FailureAsync(HttpResponseMessage response, string op, string path, CancellationToken cancellationToken)
    {
        string detail;
        try
        {
            detail = await response.Content.ReadAsStringAsync(cancellationToken);
            if (detail.Length > 500)
            {
                detail = detail[..500];
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            detail = "";
        }
        return new HttpRequestException($"hdfs {op} of '{path}' answered {(int)response.StatusCode}: {detail}", null, response.StatusCode);
    }

    private string PathOf(string name)
    {
        BackendNames.Validate(name);
        return $"{_root.TrimEnd('/')}/{name}";
    }

    private sealed record FileStatus(string PathSuffix, bool IsDirectory, long Length, DateTimeOffset? Modified)
    {
        public static FileStatus From(JsonElement element) => new(
            element.TryGetProperty("pathSuffix", out var suffix) ? suffix.GetString() ?? "" : "",
            element.TryGetProperty("type", out var type) && type.GetString() == "DIRECTORY",
            element.TryGetProperty("length", out var length) ? length.GetInt64() : 0,
            element.TryGetProperty("modificationTime", out var modified) ? DateTimeOffset.FromUnixTimeMilliseconds(modified.GetInt64()) : null);
    }
}
