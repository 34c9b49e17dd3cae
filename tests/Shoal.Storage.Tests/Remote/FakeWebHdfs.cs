using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Shoal.Storage.Tests.Remote;

/// <summary>
/// A minimal WebHDFS name node and data node in one Kestrel host, keeping files in memory: CREATE
/// and OPEN answer 307 redirects to the data node endpoints, GETFILESTATUS, LISTSTATUS, MKDIRS,
/// RENAME (never overwriting, parent must exist, like HDFS) and DELETE act on the namespace.
/// Errors are WebHDFS RemoteException JSON.
/// </summary>
internal sealed class FakeWebHdfs : IAsyncDisposable
{
    /// <summary>WebHDFS's JSON keeps its Java names (FileStatus, boolean): no camel-casing.</summary>
    private static readonly System.Text.Json.JsonSerializerOptions Json = new();

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (byte[] Data, long Modified)> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal) { "/" };
    private TestServer _server = null!;

    public string Url => _server.Url;

    /// <summary>Every user.name the server saw.</summary>
    public List<string?> Users { get; } = [];

    /// <summary>The ops the name node served.</summary>
    public List<string> Ops { get; } = [];

    public IReadOnlyList<string> FilePaths
    {
        get
        {
            lock (_gate)
            {
                return [.. _files.Keys];
            }
        }
    }

    public static async Task<FakeWebHdfs> StartAsync()
    {
        var fake = new FakeWebHdfs();
        fake._server = await TestServer.StartAsync(fake.Map);
        return fake;
    }

    /// <summary>A name node that is in standby: every request answers 403 StandbyException.</summary>
    public static Task<TestServer> StartStandbyAsync() => TestServer.StartAsync(app =>
        app.Run(context => Error(context, 403, "StandbyException", "Operation category READ is not supported in state standby")));

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private void Map(WebApplication app)
    {
        app.MapMethods("/webhdfs/v1/{**path}", ["GET", "PUT", "DELETE", "POST"], NameNode);
        app.MapGet("/webhdfs/v1", NameNode);
        app.MapPut("/datanode/create", async context =>
        {
            var path = context.Request.Query["path"].ToString();
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            if (context.Request.ContentLength is { } declared && declared != body.Length)
            {
                await Error(context, 400, "IOException", "short body");
                return;
            }
            lock (_gate)
            {
                AddParents(path);
                _files[path] = (body.ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            }
            context.Response.StatusCode = 201;
        });
        app.MapGet("/datanode/open", async context =>
        {
            var path = context.Request.Query["path"].ToString();
            var offset = long.Parse(context.Request.Query["offset"].ToString(), CultureInfo.InvariantCulture);
            long? length = context.Request.Query.ContainsKey("length") ? long.Parse(context.Request.Query["length"].ToString(), CultureInfo.InvariantCulture) : null;
            byte[] data;
            lock (_gate)
            {
                data = _files[path].Data;
            }
            var count = (int)Math.Min(data.Length - offset, length ?? long.MaxValue);
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = count;
            await context.Response.Body.WriteAsync(data.AsMemory((int)offset, count), context.RequestAborted);
        });
    }

    private async Task NameNode(HttpContext context)
    {
        var path = "/" + (context.Request.RouteValues["path"] as string ?? "").TrimEnd('/');
        var query = context.Request.Query;
        var op = query["op"].ToString().ToUpperInvariant();
        lock (_gate)
        {
            Users.Add(query.ContainsKey("user.name") ? query["user.name"].ToString() : null);
            Ops.Add(op);
        }
        var self = $"{context.Request.Scheme}://{context.Request.Host}";
        switch ((context.Request.Method, op))
        {
            case ("PUT", "CREATE"):
                context.Response.StatusCode = 307;
                context.Response.Headers.Location = $"{self}/datanode/create?path={Uri.EscapeDataString(path)}";
                return;
            case ("GET", "OPEN"):
            {
                long size;
                lock (_gate)
                {
                    if (!_files.TryGetValue(path, out var file))
                    {
                        size = -1;
                    }
                    else
                    {
                        size = file.Data.Length;
                    }
                }
                if (size < 0)
                {
                    await Error(context, 404, "FileNotFoundException", $"File does not exist: {path}");
                    return;
                }
                var offset = query.ContainsKey("offset") ? long.Parse(query["offset"].ToString(), CultureInfo.InvariantCulture) : 0;
                if (offset >= size && size > 0)
                {
                    await Error(context, 403, "IOException", $"Offset={offset} out of the range [0, {size})");
                    return;
                }
                context.Response.StatusCode = 307;
                context.Response.Headers.Location = $"{self}/datanode/open?path={Uri.EscapeDataString(path)}&offset={offset}"
                    + (query.ContainsKey("length") ? "&length=" + query["length"] : "");
                return;
            }
            case ("GET", "GETFILESTATUS"):
            {
                object? status;
                lock (_gate)
                {
                    status = _files.TryGetValue(path, out var file) ? Status("", file.Data.Length, file.Modified, "FILE")
                        : _directories.Contains(path) ? Status("", 0, 0, "DIRECTORY")
                        : null;
                }
                if (status is null)
                {
                    await Error(context, 404, "FileNotFoundException", $"File does not exist: {path}");
                    return;
                }
                await context.Response.WriteAsJsonAsync(new { FileStatus = status }, Json);
                return;
            }
            case ("GET", "LISTSTATUS"):
            {
                List<object> entries;
                lock (_gate)
                {
                    if (!_directories.Contains(path))
                    {
                        entries = null!;
                    }
                    else
                    {
                        var prefix = path == "/" ? "/" : path + "/";
                        entries = [];
                        foreach (var (file, value) in _files.Where(f => f.Key.StartsWith(prefix, StringComparison.Ordinal) && !f.Key[prefix.Length..].Contains('/')))
                        {
                            entries.Add(Status(file[prefix.Length..], value.Data.Length, value.Modified, "FILE"));
                        }
                        foreach (var dir in _directories.Where(d => d.StartsWith(prefix, StringComparison.Ordinal) && d.Length > prefix.Length && !d[prefix.Length..].Contains('/')))
                        {
                            entries.Add(Status(dir[prefix.Length..], 0, 0, "DIRECTORY"));
                        }
                    }
                }
                if (entries is null)
                {
                    await Error(context, 404, "FileNotFoundException", $"File {path} does not exist.");
                    return;
                }
                await context.Response.WriteAsJsonAsync(new { FileStatuses = new { FileStatus = entries } }, Json);
                return;
            }
            case ("PUT", "MKDIRS"):
                lock (_gate)
                {
                    _directories.Add(path);
                    AddParents(path);
                }
                await context.Response.WriteAsJsonAsync(new { boolean = true }, Json);
                return;
            case ("PUT", "RENAME"):
            {
                var destination = query["destination"].ToString();
                bool renamed;
                lock (_gate)
                {
                    var parent = destination[..Math.Max(1, destination.LastIndexOf('/'))];
                    renamed = _files.TryGetValue(path, out var file) && !_files.ContainsKey(destination) && !_directories.Contains(destination) && _directories.Contains(parent);
                    if (renamed)
                    {
                        _files.Remove(path);
                        _files[destination] = file;
                    }
                }
                await context.Response.WriteAsJsonAsync(new { boolean = renamed }, Json);
                return;
            }
            case ("DELETE", "DELETE"):
            {
                bool deleted;
                lock (_gate)
                {
                    deleted = _files.Remove(path);
                }
                await context.Response.WriteAsJsonAsync(new { boolean = deleted }, Json);
                return;
            }
            default:
                await Error(context, 400, "IllegalArgumentException", $"Invalid value for webhdfs parameter \"op\": {op}");
                return;
        }
    }

    private void AddParents(string path)
    {
        for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            _directories.Add(path[..slash]);
        }
    }

    private static object Status(string suffix, long length, long modified, string type) => new
    {
        pathSuffix = suffix,
        length,
        modificationTime = modified,
        type,
        permission = "644",
        replication = 3,
    };

    private static Task Error(HttpContext context, int status, string exception, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { RemoteException = new { exception, javaClassName = "org.apache.hadoop." + exception, message } }, Json);
    }
}
