using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Clients.BuildIndex;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Preheat;

/// <summary>
/// The preheat endpoints, all on the proxy's address: <c>POST /registry/notifications</c> (registry
/// notifications, Harbor's "kraken" provider, Harbor webhooks), Harbor's "dragonfly" provider
/// (<c>GET /healthy</c>, <c>/oapi/v1/jobs</c>; for Harbor 2.11 and older Dragonfly's older API:
/// <c>GET /_ping</c>, <c>POST /preheats</c>, <c>GET /preheats/{id}</c>) and Shoal's own <c>/v1/preheat/jobs</c>.
/// </summary>
internal sealed class PreheatEndpoints(JobStore store, PreheatRunner runner, UpstreamRegistry upstreams, TokenCheck tokens, BuildIndexClient buildIndex)
{
    private const int MaxBody = 1024 * 1024;
    private static readonly HashSet<string> s_forbiddenHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE", "Trailer", "Proxy-Authorization", "Expect",
    };

    public static void Map(WebApplication app)
    {
        var endpoints = app.Services.GetRequiredService<PreheatEndpoints>();
        app.MapPost("/registry/notifications", (HttpContext context, PreheatEndpoints e) => e.NotificationsAsync(context));
        app.MapGet("/healthy", () => Results.Text("OK"));
        app.MapPost("/oapi/v1/jobs", (HttpContext context, PreheatEndpoints e) => e.CreateDragonflyJobAsync(context));
        app.MapGet("/oapi/v1/jobs", (HttpContext context) => endpoints.ListDragonflyJobs(context));
        app.MapGet("/oapi/v1/jobs/{id}", (HttpContext context, string id) => endpoints.GetDragonflyJob(context, id));
        app.MapDelete("/oapi/v1/jobs/{id}", (HttpContext context, string id) => endpoints.DeleteDragonflyJob(context, id));
        app.MapGet("/_ping", () => Results.Text("\"OK\"", "application/json"));
        app.MapPost("/preheats", (HttpContext context, PreheatEndpoints e) => e.CreateLegacyPreheatAsync(context));
        app.MapGet("/preheats/{id}", (HttpContext context, string id) => endpoints.GetLegacyPreheat(context, id));
        app.MapPost("/v1/preheat/jobs", (HttpContext context, PreheatEndpoints e) => e.CreateJobAsync(context));
        app.MapGet("/v1/preheat/jobs", (HttpContext context) => endpoints.ListJobs(context));
        app.MapGet("/v1/preheat/jobs/{id}", (HttpContext context, string id) => endpoints.GetJob(context, id));
    }

    // ---- registry notifications, Harbor "kraken" provider, Harbor webhooks ----

    private async Task<IResult> NotificationsAsync(HttpContext context)
    {
        if (Refused(context, TokenScope.Notification) is { } refused)
        {
            return refused;
        }
        var body = await ReadBodyAsync(context);
        if (body is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, detail: $"body is larger than {MaxBody} bytes");
        }
        var events = NotificationParser.Parse(body, upstreams, out var error);
        if (events is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "malformed notification", detail: error);
        }
        var cancellationToken = context.RequestAborted;
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("jobs");
            var ignored = new List<(string Subject, string Reason)>();
            foreach (var e in events)
            {
                var reason = e.Ignored;
                if (e.Request is { } request && e.UnknownRegistry is not null
                    && !await InShoalAsync(request.Repository, Digest.Parse(request.Digest!), cancellationToken))
                {
                    reason = $"registry {e.UnknownRegistry} is not a configured upstream (proxy:preheat:upstreams) and Shoal does not hold {e.Subject}";
                }
                if (reason is not null || e.Request is null)
                {
                    ignored.Add((e.Subject, reason ?? "ignored"));
                    continue;
                }
                var (job, created) = Start(e.Request, []);
                writer.WriteStartObject();
                writer.WriteNumber("id", job.Id);
                writer.WriteString("subject", e.Subject);
                writer.WriteBoolean("created", created);
                writer.WriteString("state", job.State);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("ignored");
            foreach (var (subject, reason) in ignored)
            {
                writer.WriteStartObject();
                writer.WriteString("subject", subject);
                writer.WriteString("reason", reason);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return Results.Bytes(stream.ToArray(), "application/json");
    }

    private async Task<bool> InShoalAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        try
        {
            return await buildIndex.GetManifestAsync(repository, digest, cancellationToken) is not null;
        }
        catch (Exception ex) when (ex is Clients.ServiceException or HttpRequestException)
        {
            return false;
        }
    }

    private (PreheatJob Job, bool Created) Start(PreheatRequest request, Dictionary<string, string> headers)
    {
        request.Headers = headers;
        var (job, created) = store.GetOrCreate(request);
        if (created)
        {
            runner.Enqueue(job.Id);
        }
        return (job, created);
    }

    // ---- Harbor "dragonfly" provider ----

    private async Task<IResult> CreateDragonflyJobAsync(HttpContext context)
    {
        if (DragonflyRefused(context) is { } refused)
        {
            return refused;
        }
        var body = await ReadBodyAsync(context);
        if (body is null)
        {
            return DragonflyError(StatusCodes.Status413PayloadTooLarge, $"body is larger than {MaxBody} bytes");
        }
        if (ParseDragonfly(body, out var headers, out var error) is not { } request)
        {
            return DragonflyError(StatusCodes.Status422UnprocessableEntity, error!);
        }
        var (job, _) = Start(request, headers);
        return Results.Bytes(DragonflyJson(job), "application/json");
    }

    private PreheatRequest? ParseDragonfly(byte[] body, out Dictionary<string, string> headers, out string? error)
    {
        headers = new(StringComparer.OrdinalIgnoreCase);
        if (ParseJobBody(body, "preheat", out error) is not { } document)
        {
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (NotificationParser.Get(root, "args") is not { ValueKind: JsonValueKind.Object } args)
            {
                error = "args is required";
                return null;
            }
            var argsType = NotificationParser.String(args, "type") ?? string.Empty;
            if (argsType is not ("image" or ""))
            {
                error = $"args.type '{argsType}' is not supported: only 'image'";
                return null;
            }
            if (upstreams.Resolve(NotificationParser.String(args, "url"), out var urlError) is not { } request)
            {
                error = "args.url: " + urlError;
                return null;
            }
            var scope = PreheatScope.Parse(NotificationParser.String(args, "scope"));
            if (scope is null)
            {
                error = $"args.scope '{NotificationParser.String(args, "scope")}' is not single_seed_peer, all_seed_peers or all_peers";
                return null;
            }
            request.Scope = scope;
            request.Trigger = "dragonfly";
            if (NotificationParser.Get(args, "timeout") is { } timeout)
            {
                if (timeout.ValueKind != JsonValueKind.Number || !timeout.TryGetInt64(out var ns) || ns < 0)
                {
                    error = "args.timeout must be a non-negative number of nanoseconds";
                    return null;
                }
                if (ns > 0)
                {
                    request.Timeout = TimeSpan.FromTicks(Math.Min(ns / 100, TimeSpan.FromDays(1).Ticks));
                }
            }
            if (!ParseHeaders(NotificationParser.Get(args, "headers"), "args.headers", headers, out error))
            {
                return null;
            }
            if (NotificationParser.Get(root, "scheduler_cluster_ids") is { ValueKind: JsonValueKind.Array } ids
                && ids.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Number } first && first.TryGetInt64(out var clusterId))
            {
                request.ClusterId = clusterId;
            }
            error = null;
            return request;
        }
    }

    /// <summary>A Dragonfly job body: a JSON object whose <c>type</c> is <paramref name="type"/>; null (and why) otherwise.</summary>
    private static JsonDocument? ParseJobBody(byte[] body, string type, out string? error)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            error = "body is not valid JSON: " + ex.Message;
            return null;
        }
        var root = document.RootElement;
        error = root.ValueKind != JsonValueKind.Object ? "body is not a JSON object"
            : NotificationParser.String(root, "type") is var actual && actual != type ? $"type '{actual}' is not supported: only '{type}'"
            : null;
        if (error is not null)
        {
            document.Dispose();
            return null;
        }
        return document;
    }

    /// <summary>Copies a JSON object of header names to string values into <paramref name="headers"/>, leaving out hop-by-hop and framing headers.</summary>
    private static bool ParseHeaders(JsonElement? element, string name, Dictionary<string, string> headers, out string? error)
    {
        error = null;
        if (element is not { } headerElement || headerElement.ValueKind == JsonValueKind.Null)
        {
            return true;
        }
        if (headerElement.ValueKind != JsonValueKind.Object)
        {
            error = $"{name} must be an object of strings";
            return false;
        }
        foreach (var header in headerElement.EnumerateObject())
        {
            if (header.Value.ValueKind != JsonValueKind.String || header.Name.Length == 0 || header.Name.Any(c => c <= ' ' || c >= 127 || c == ':')
                || header.Value.GetString()!.Any(c => c is '\r' or '\n' or '\0'))
            {
                error = $"{name}['{header.Name}'] is not a valid header";
                return false;
            }
            if (!s_forbiddenHeaders.Contains(header.Name))
            {
                headers[header.Name] = header.Value.GetString()!;
            }
        }
        return true;
    }

    private IResult ListDragonflyJobs(HttpContext context)
    {
        if (DragonflyRefused(context) is { } refused)
        {
            return refused;
        }
        using var stream = new MemoryStream();
        stream.WriteByte((byte)'[');
        var first = true;
        foreach (var job in store.List())
        {
            if (!first)
            {
                stream.WriteByte((byte)',');
            }
            first = false;
            stream.Write(DragonflyJson(job));
        }
        stream.WriteByte((byte)']');
        return Results.Bytes(stream.ToArray(), "application/json");
    }

    private IResult GetDragonflyJob(HttpContext context, string id)
    {
        if (DragonflyRefused(context) is { } refused)
        {
            return refused;
        }
        return ParseId(id) is { } number && store.Get(number) is { } job
            ? Results.Bytes(DragonflyJson(job), "application/json")
            : DragonflyError(StatusCodes.Status404NotFound, $"job {id} not found");
    }

    private IResult DeleteDragonflyJob(HttpContext context, string id)
    {
        if (DragonflyRefused(context) is { } refused)
        {
            return refused;
        }
        return ParseId(id) is { } number && store.Delete(number)
            ? Results.Ok()
            : DragonflyError(StatusCodes.Status404NotFound, $"job {id} not found");
    }

    /// <summary>Dragonfly's handler errors: <c>{"errors": "…"}</c>.</summary>
    private static IResult DragonflyError(int status, string message) => JsonObject(status, "errors", message);

    /// <summary>Dragonfly's middleware errors (authentication): <c>{"message": "…"}</c>.</summary>
    private static IResult DragonflyMessage(int status, string message) => JsonObject(status, "message", message);

    private static IResult JsonObject(int status, string name, string message)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString(name, message);
            writer.WriteEndObject();
        }
        return Results.Text(System.Text.Encoding.UTF8.GetString(stream.ToArray()), "application/json", System.Text.Encoding.UTF8, status);
    }

    /// <summary>A job as Dragonfly's manager answers it (the fields Harbor reads).</summary>
    private static byte[] DragonflyJson(PreheatJob job)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", job.Id);
            writer.WriteString("type", "preheat");
            writer.WriteString("created_at", GoTime(job.CreatedAt));
            writer.WriteString("updated_at", GoTime(job.UpdatedAt));
            writer.WriteString("state", job.State switch
            {
                JobState.Succeeded => "SUCCESS",
                JobState.Failed => "FAILURE",
                _ => "PENDING",
            });
            writer.WriteStartObject("result");
            writer.WriteStartArray("job_states");
            writer.WriteStartObject();
            writer.WriteString("error", job.Error ?? string.Empty);
            writer.WriteStartArray("results");
            writer.WriteStartObject();
            var tasks = job.Blobs.SelectMany(b => b.Targets.Select(t => (Blob: BlobUrl(job, b.Digest, t.Url), Target: t)))
                .Concat(job.Agents.Select(a => (Blob: a.Url, Target: a)))
                .ToArray();
            writer.WriteStartArray("success_tasks");
            foreach (var (blob, target) in tasks.Where(t => t.Target.State == JobState.Succeeded))
            {
                WriteTask(writer, blob, target, withDescription: false);
            }
            writer.WriteEndArray();
            writer.WriteStartArray("failure_tasks");
            foreach (var (blob, target) in tasks.Where(t => t.Target.State == JobState.Failed))
            {
                WriteTask(writer, blob, target, withDescription: true);
            }
            writer.WriteEndArray();
            writer.WriteNumber("scheduler_cluster_id", job.Request.ClusterId);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static string BlobUrl(PreheatJob job, string digest, string target)
        => job.Request.Upstream is { } upstream
            ? $"{upstream}v2/{job.Request.Repository}/blobs/{digest}"
            : $"{target}v1/blobs/{digest}";

    private static void WriteTask(Utf8JsonWriter writer, string url, TargetResult target, bool withDescription)
    {
        var host = Uri.TryCreate(target.Url, UriKind.Absolute, out var uri) ? uri.Host : target.Url;
        writer.WriteStartObject();
        writer.WriteString("url", url);
        writer.WriteString("hostname", host);
        writer.WriteString("ip", IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? ip.ToString() : string.Empty);
        if (withDescription)
        {
            writer.WriteString("description", target.Error ?? string.Empty);
        }
        writer.WriteEndObject();
    }

    private static string GoTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    // ---- Harbor 2.11 and older: Dragonfly's older preheat API ----

    /// <summary>
    /// <c>POST /preheats</c> with Harbor's body <c>{type, url, headers, image, tag, digest}</c>; answers
    /// <c>{"ID": "&lt;id&gt;"}</c> (a string). Never 208: the same digest names the same job instead.
    /// </summary>
    private async Task<IResult> CreateLegacyPreheatAsync(HttpContext context)
    {
        if (DragonflyRefused(context) is { } refused)
        {
            return refused;
        }
        var body = await ReadBodyAsync(context);
        if (body is null)
        {
            return DragonflyError(StatusCodes.Status413PayloadTooLarge, $"body is larger than {MaxBody} bytes");
        }
        if (ParseLegacy(body, out var headers, out var error) is not { } request)
        {
            return DragonflyError(StatusCodes.Status422UnprocessableEntity, error!);
        }
        var (job, _) = Start(request, headers);
        return JsonObject(StatusCodes.Status200OK, "ID", job.Id.ToString(CultureInfo.InvariantCulture));
    }

    private PreheatRequest? ParseLegacy(byte[] body, out Dictionary<string, string> headers, out string? error)
    {
        headers = new(StringComparer.OrdinalIgnoreCase);
        if (ParseJobBody(body, "image", out error) is not { } document)
        {
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (upstreams.Resolve(NotificationParser.String(root, "url"), out var urlError) is not { } request)
            {
                error = "url: " + urlError;
                return null;
            }
            if (!ParseHeaders(NotificationParser.Get(root, "headers"), "headers", headers, out error))
            {
                return null;
            }
            if (NotificationParser.String(root, "digest") is { Length: > 0 } digest)
            {
                if (!Digest.TryParse(digest, out _, out var digestError))
                {
                    error = $"digest '{digest}': {digestError}";
                    return null;
                }
                if (request.Digest is not null && request.Digest != digest)
                {
                    error = $"digest '{digest}' is not the digest the url names ({request.Digest})";
                    return null;
                }
                // Harbor names the artifact's digest: the job checks the tag still points at it.
                request.Digest = digest;
            }
            request.Trigger = "dragonfly-v1";
            error = null;
            return request;
        }
    }

    /// <summary>
    /// <c>GET /preheats/{id}</c>: <c>{ID, status, startTime, finishTime, errorMsg}</c> with Dragonfly's older
    /// states WAITING, RUNNING, SUCCESS, FAILED (Harbor 2.11 maps WAITING to PENDING and FAILED to FAIL).
    /// </summary>
    private IResult GetLegacyPreheat(HttpContext context, string id)
    {
        if (DragonflyRefused(context) is { } refused)
        {
            return refused;
        }
        if (ParseId(id) is not { } number || store.Get(number) is not { } job)
        {
            return DragonflyError(StatusCodes.Status404NotFound, $"preheat {id} not found");
        }
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("ID", job.Id.ToString(CultureInfo.InvariantCulture));
            writer.WriteString("status", job.State switch
            {
                JobState.Pending => "WAITING",
                JobState.Running => "RUNNING",
                JobState.Succeeded => "SUCCESS",
                _ => "FAILED",
            });
            writer.WriteString("startTime", GoTime(job.CreatedAt));
            if (job.FinishedAt is { } finished)
            {
                writer.WriteString("finishTime", GoTime(finished));
            }
            writer.WriteString("errorMsg", job.Error ?? string.Empty);
            writer.WriteEndObject();
        }
        return Results.Bytes(stream.ToArray(), "application/json");
    }

    // ---- Shoal's own API ----

    private async Task<IResult> CreateJobAsync(HttpContext context)
    {
        if (Refused(context, TokenScope.Job) is { } refused)
        {
            return refused;
        }
        var bytes = await ReadBodyAsync(context);
        CreateJobBody? body;
        try
        {
            body = bytes is null ? null : JsonSerializer.Deserialize(bytes, PreheatJsonContext.Default.CreateJobBody);
        }
        catch (JsonException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "body is not valid JSON: " + ex.Message);
        }
        if (body?.Image is not { Length: > 0 } image)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "'image' is required");
        }
        if (ParseImage(image, out var error) is not { } request)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: error);
        }
        if (PreheatScope.Parse(body.Scope) is not { } scope)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: $"scope '{body.Scope}' is not single_seed_peer, all_seed_peers or all_peers");
        }
        foreach (var platform in body.Platforms ?? [])
        {
            if (!PlatformFilter.IsValid(platform))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: $"platform '{platform}' is not os/arch[/variant]");
            }
        }
        request.Scope = scope;
        request.Platforms = body.Platforms ?? [];
        request.Trigger = "api";
        var (job, created) = Start(request, []);
        return created
            ? Results.Json(job, PreheatJsonContext.Default.PreheatJob, statusCode: StatusCodes.Status201Created)
            : Results.Json(job, PreheatJsonContext.Default.PreheatJob);
    }

    /// <summary><c>[registry/]repository[:tag|@digest]</c> or a manifest URL; no registry = Shoal itself.</summary>
    private PreheatRequest? ParseImage(string image, out string? error)
    {
        if (image.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || image.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return upstreams.Resolve(image, out error);
        }
        string? upstream = null;
        var rest = image;
        var slash = image.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var first = image[..slash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost")
            {
                if (upstreams.MatchAuthority(first) is not { } match)
                {
                    error = $"registry '{first}' is not a configured upstream (proxy:preheat:upstreams)";
                    return null;
                }
                upstream = match.Base.AbsoluteUri;
                rest = image[(slash + 1)..];
            }
        }
        string repository;
        string reference;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            repository = rest[..at];
            reference = rest[(at + 1)..];
            if (!Digest.TryParse(reference, out _, out var digestError))
            {
                error = $"'{reference}': {digestError}";
                return null;
            }
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            var tagged = colon > rest.LastIndexOf('/');
            repository = tagged ? rest[..colon] : rest;
            reference = tagged ? rest[(colon + 1)..] : "latest";
            if (!RepositoryName.IsValidTag(reference))
            {
                error = $"'{reference}' is not a valid tag";
                return null;
            }
        }
        if (!RepositoryName.IsValid(repository, out var nameError))
        {
            error = $"'{repository}': {nameError}";
            return null;
        }
        error = null;
        return new PreheatRequest
        {
            Repository = repository,
            Reference = reference,
            Digest = Digest.LooksLikeDigest(reference) ? reference : null,
            Upstream = upstream,
            Url = upstream is null ? null : $"{upstream}v2/{repository}/manifests/{reference}",
        };
    }

    private IResult ListJobs(HttpContext context)
        => Refused(context, TokenScope.Job) ?? Results.Json(store.List().ToList(), PreheatJsonContext.Default.ListPreheatJob);

    /// <summary>Null when the request may use endpoints of <paramref name="scope"/>; else the 401 or 403 problem.</summary>
    private IResult? Refused(HttpContext context, string scope) => tokens.Check(context.Request, scope) switch
    {
        TokenVerdict.Unauthorized => Results.Problem(statusCode: StatusCodes.Status401Unauthorized, detail: "missing or invalid token"),
        TokenVerdict.Forbidden => Results.Problem(statusCode: StatusCodes.Status403Forbidden, detail: $"the token does not have the '{scope}' scope"),
        _ => null,
    };

    /// <summary>
    /// Null when the request may use Dragonfly's job endpoints (scope <c>job</c>); else 401 or 403 with the
    /// body Dragonfly's personal-access-token check answers.
    /// </summary>
    private IResult? DragonflyRefused(HttpContext context) => tokens.Check(context.Request, TokenScope.Job) switch
    {
        TokenVerdict.Unauthorized => DragonflyMessage(StatusCodes.Status401Unauthorized, "Unauthorized"),
        TokenVerdict.Forbidden => DragonflyMessage(StatusCodes.Status403Forbidden, $"Token doesn't have permission to access this resource. Required permission: {TokenScope.Job}"),
        _ => null,
    };

    private IResult GetJob(HttpContext context, string id)
    {
        if (Refused(context, TokenScope.Job) is { } refused)
        {
            return refused;
        }
        return ParseId(id) is { } number && store.Get(number) is { } job
            ? Results.Json(job, PreheatJsonContext.Default.PreheatJob)
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"job {id} not found");
    }

    private static long? ParseId(string id) => long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : null;

    private static async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBody)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
