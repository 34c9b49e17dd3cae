using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Shoal.Storage.Tests.Remote;

/// <summary>
/// A minimal protocol-level fake of the Google Cloud Storage JSON API, just what
/// Google.Cloud.Storage.V1 and the GCS backend call: object metadata GET, <c>alt=media</c> GET with
/// Range, list with <c>prefix</c>/<c>maxResults</c>/<c>pageToken</c>, DELETE, and resumable uploads
/// (POST <c>/upload/storage/v1/b/{bucket}/o?uploadType=resumable</c> → Location; PUT chunks with
/// Content-Range answered 308 + Range until the last one, which creates the object). An object
/// exists only once its upload's last chunk arrived. Objects live in memory.
/// </summary>
internal sealed partial class FakeGcs : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, (byte[] Data, DateTimeOffset Updated, long Generation)> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Name, MemoryStream Received)> _uploads = new(StringComparer.Ordinal);
    private readonly string _bucket;
    private long _generation;
    private TestServer _server = null!;

    private FakeGcs(string bucket) => _bucket = bucket;

    /// <summary>The JSON API base URL, as the backend's <c>endpoint</c> takes it.</summary>
    public string Endpoint => _server.Url + "/storage/v1/";

    /// <summary>Requests the fake did not understand, to explain a failure.</summary>
    public List<string> Unhandled { get; } = [];

    /// <summary>Every request, as "METHOD path?query".</summary>
    public List<string> Requests { get; } = [];

    public int PendingUploads
    {
        get
        {
            lock (_gate)
            {
                return _uploads.Count;
            }
        }
    }

    public static async Task<FakeGcs> StartAsync(string bucket)
    {
        var fake = new FakeGcs(bucket);
        fake._server = await TestServer.StartAsync(app => app.Run(async context =>
        {
            try
            {
                await fake.HandleAsync(context);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                lock (fake._gate)
                {
                    fake.Unhandled.Add($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}: {ex}");
                }
                throw;
            }
        }));
        return fake;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var queryStart = raw.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? raw : raw[..queryStart];
        var query = context.Request.Query;
        var method = context.Request.Method;
        if (context.Request.Headers.ContentEncoding == "gzip")
        {
            // Google's client libraries gzip JSON request bodies.
            context.Request.Body = new System.IO.Compression.GZipStream(context.Request.Body, System.IO.Compression.CompressionMode.Decompress);
            context.Request.ContentLength = null;
            context.Request.Headers.ContentEncoding = default;
        }
        lock (_gate)
        {
            Requests.Add($"{method} {raw}");
        }
        var bucketPrefix = $"/storage/v1/b/{_bucket}/o";
        if (path == $"/upload/storage/v1/b/{_bucket}/o" && method == "POST" && query["uploadType"] == "resumable")
        {
            using var metadata = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var name = query.ContainsKey("name") ? query["name"].ToString() : metadata.RootElement.GetProperty("name").GetString()!;
            var id = Guid.NewGuid().ToString("N");
            lock (_gate)
            {
                _uploads[id] = (name, new MemoryStream());
            }
            context.Response.Headers.Location = $"{_server.Url}/upload/storage/v1/b/{_bucket}/o?uploadType=resumable&upload_id={id}";
            return;
        }
        if (path == $"/upload/storage/v1/b/{_bucket}/o" && method == "PUT" && query.ContainsKey("upload_id"))
        {
            await ChunkAsync(context, query["upload_id"].ToString());
            return;
        }
        if (path == bucketPrefix && method == "GET")
        {
            await ListAsync(context);
            return;
        }
        if (path.StartsWith(bucketPrefix + "/", StringComparison.Ordinal))
        {
            var name = Uri.UnescapeDataString(path[(bucketPrefix.Length + 1)..]);
            (byte[] Data, DateTimeOffset Updated, long Generation) item;
            bool found;
            lock (_gate)
            {
                found = _objects.TryGetValue(name, out item);
                if (found && method == "DELETE")
                {
                    _objects.Remove(name);
                }
            }
            if (!found)
            {
                await ErrorAsync(context, 404, "notFound", $"No such object: {_bucket}/{name}");
                return;
            }
            switch (method)
            {
                case "DELETE":
                    context.Response.StatusCode = 204;
                    return;
                case "GET" when query["alt"] == "media":
                    await Results.Bytes(item.Data, "application/octet-stream", enableRangeProcessing: true).ExecuteAsync(context);
                    return;
                case "GET":
                    await WriteJsonAsync(context, Resource(name, item));
                    return;
            }
        }
        lock (_gate)
        {
            Unhandled.Add($"{method} {raw}");
        }
        await ErrorAsync(context, 400, "invalid", $"the fake does not implement {method} {path}");
    }

    private async Task ChunkAsync(HttpContext context, string id)
    {
        (string Name, MemoryStream Received) upload;
        bool known;
        lock (_gate)
        {
            known = _uploads.TryGetValue(id, out upload);
        }
        if (!known)
        {
            await ErrorAsync(context, 404, "notFound", "no such upload");
            return;
        }
        // Content-Range: bytes first-last/total, bytes first-last/*, bytes */total
        var range = ContentRange().Match(context.Request.Headers.ContentRange.ToString());
        if (!range.Success)
        {
            await ErrorAsync(context, 400, "invalid", "bad Content-Range " + context.Request.Headers.ContentRange);
            return;
        }
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        if (range.Groups["first"].Success)
        {
            var first = long.Parse(range.Groups["first"].Value, CultureInfo.InvariantCulture);
            var last = long.Parse(range.Groups["last"].Value, CultureInfo.InvariantCulture);
            if (first != upload.Received.Length || last - first + 1 != body.Length)
            {
                await ErrorAsync(context, 400, "invalid", $"chunk {first}-{last} does not continue at {upload.Received.Length} with {body.Length} bytes");
                return;
            }
            body.Position = 0;
            body.CopyTo(upload.Received);
        }
        var total = range.Groups["total"].Value;
        if (total == "*" || long.Parse(total, CultureInfo.InvariantCulture) != upload.Received.Length)
        {
            context.Response.StatusCode = 308;
            if (upload.Received.Length > 0)
            {
                context.Response.Headers["Range"] = $"bytes=0-{upload.Received.Length - 1}";
            }
            return;
        }
        (byte[] Data, DateTimeOffset Updated, long Generation) item;
        lock (_gate)
        {
            _uploads.Remove(id);
            item = (upload.Received.ToArray(), DateTimeOffset.UtcNow, ++_generation);
            _objects[upload.Name] = item;
        }
        await WriteJsonAsync(context, Resource(upload.Name, item));
    }

    private async Task ListAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var prefix = query["prefix"].ToString();
        var max = query.ContainsKey("maxResults") ? int.Parse(query["maxResults"].ToString(), CultureInfo.InvariantCulture) : 1000;
        var after = query.ContainsKey("pageToken") ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(query["pageToken"].ToString())) : null;
        List<Dictionary<string, object>> items;
        string? next = null;
        lock (_gate)
        {
            var matching = _objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal) && (after is null || string.CompareOrdinal(o.Key, after) > 0)).Take(max + 1).ToList();
            if (matching.Count > max)
            {
                matching.RemoveAt(max);
                next = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(matching[^1].Key));
            }
            items = matching.Select(o => Resource(o.Key, o.Value)).ToList();
        }
        await WriteJsonAsync(context, new Dictionary<string, object?> { ["kind"] = "storage#objects", ["items"] = items, ["nextPageToken"] = next });
    }

    private Dictionary<string, object> Resource(string name, (byte[] Data, DateTimeOffset Updated, long Generation) item) => new Dictionary<string, object>
    {
        ["kind"] = "storage#object",
        ["id"] = $"{_bucket}/{name}/{item.Generation}",
        ["name"] = name,
        ["bucket"] = _bucket,
        ["generation"] = item.Generation.ToString(CultureInfo.InvariantCulture),
        ["metageneration"] = "1",
        ["contentType"] = "application/octet-stream",
        ["size"] = item.Data.Length.ToString(CultureInfo.InvariantCulture),
#pragma warning disable CA5351 // GCS's md5Hash field is MD5 by definition
        ["md5Hash"] = Convert.ToBase64String(MD5.HashData(item.Data)),
#pragma warning restore CA5351
        ["crc32c"] = Crc32c(item.Data),
        ["updated"] = item.Updated.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ["timeCreated"] = item.Updated.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
    };

    /// <summary>The object's CRC32C, big-endian, base64 (GCS's encoding).</summary>
    private static string Crc32c(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }
        crc ^= 0xFFFFFFFFu;
        return Convert.ToBase64String([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
    }

    private static Task WriteJsonAsync(HttpContext context, object value)
    {
        context.Response.ContentType = "application/json; charset=UTF-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(value), context.RequestAborted);
    }

    private static Task ErrorAsync(HttpContext context, int status, string reason, string message)
    {
        context.Response.StatusCode = status;
        return WriteJsonAsync(context, new { error = new { code = status, message, errors = new[] { new { domain = "global", reason, message } } } });
    }

    [GeneratedRegex(@"^bytes (?:(?<first>\d+)-(?<last>\d+)|\*)/(?<total>\d+|\*)$")]
    private static partial Regex ContentRange();
}
