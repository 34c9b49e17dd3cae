using System.Text.Json.Serialization;

namespace Shoal.Proxy.Preheat;

/// <summary>States of a preheat job and of its blobs.</summary>
internal static class JobState
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public static bool IsFinished(string state) => state is Succeeded or Failed;
}

/// <summary>What to preheat: where the manifest comes from and how far to spread it.</summary>
internal sealed class PreheatRequest
{
    /// <summary>Repository, e.g. <c>library/nginx</c>.</summary>
    public string Repository { get; set; } = string.Empty;

    /// <summary>Tag or digest of the manifest.</summary>
    public string Reference { get; set; } = string.Empty;

    /// <summary>The manifest digest when the trigger named it (notifications); checked against what is fetched.</summary>
    public string? Digest { get; set; }

    /// <summary>Base URL of the configured upstream registry to fetch manifests from; null = Shoal itself.</summary>
    public string? Upstream { get; set; }

    /// <summary>The manifest URL as the trigger named it (reported back).</summary>
    public string? Url { get; set; }

    public string Scope { get; set; } = PreheatScope.SingleSeedPeer;

    public List<string> Platforms { get; set; } = [];

    /// <summary>Job timeout; null = the configured default.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>What triggered the job: notification, harbor-webhook, dragonfly, api.</summary>
    public string Trigger { get; set; } = "api";

    /// <summary>Scheduler cluster id echoed to Dragonfly clients.</summary>
    public long ClusterId { get; set; } = 1;

    /// <summary>
    /// Headers to send with the manifest requests (Harbor's short-lived pull token). Never listed or
    /// logged; persisted apart from the job (mode 0600) until it finishes (<see cref="JobStore"/>).
    /// </summary>
    [JsonIgnore]
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Idempotency key: the same key names the same work.</summary>
    [JsonIgnore]
    public string Key => $"{Digest ?? (Upstream ?? "shoal") + "/" + Repository + ":" + Reference}|{Scope}|{string.Join(',', Platforms.Order(StringComparer.Ordinal))}";

    /// <summary>Whether a finished job may stand for a new request (only when the digest pins the content).</summary>
    [JsonIgnore]
    public bool Pinned => Digest is not null;
}

/// <summary>One preheat job, as persisted and as listed by <c>GET /v1/preheat/jobs</c>.</summary>
internal sealed class PreheatJob
{
    public long Id { get; set; }

    public string State { get; set; } = JobState.Pending;

    public string? Error { get; set; }

    public PreheatRequest Request { get; set; } = new();

    /// <summary>Digest of the top manifest, once fetched.</summary>
    public string? ManifestDigest { get; set; }

    /// <summary>Real media type of the top manifest, once fetched.</summary>
    public string? MediaType { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public List<BlobProgress> Blobs { get; set; } = [];

    /// <summary>Agents asked to preload (scope all_peers).</summary>
    public List<TargetResult> Agents { get; set; } = [];

    public long TotalBytes => Blobs.Sum(b => b.Size);

    public long DoneBytes => Blobs.Where(b => b.State == JobState.Succeeded).Sum(b => b.Size);
}

/// <summary>Progress of one blob of a job.</summary>
internal sealed class BlobProgress
{
    public string Digest { get; set; } = string.Empty;

    public string MediaType { get; set; } = string.Empty;

    public long Size { get; set; }

    public string? Platform { get; set; }

    public string State { get; set; } = JobState.Pending;

    public string? Error { get; set; }

    public List<TargetResult> Targets { get; set; } = [];
}

/// <summary>One origin or agent that was asked to hold a blob (or preload the image).</summary>
internal sealed class TargetResult
{
    public string Url { get; set; } = string.Empty;

    public string State { get; set; } = JobState.Pending;

    public string? Error { get; set; }
}

/// <summary>Body of <c>POST /v1/preheat/jobs</c>.</summary>
internal sealed class CreateJobBody
{
    /// <summary><c>[registry/]repository[:tag|@digest]</c> or a manifest URL.</summary>
    public string? Image { get; set; }

    public string? Scope { get; set; }

    public List<string>? Platforms { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PreheatJob))]
[JsonSerializable(typeof(List<PreheatJob>))]
[JsonSerializable(typeof(CreateJobBody))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class PreheatJsonContext : JsonSerializerContext;
