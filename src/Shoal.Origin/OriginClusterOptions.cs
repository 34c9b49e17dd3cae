using System.ComponentModel.DataAnnotations;
using Shoal.Clients;

namespace Shoal.Origin;

/// <summary>
/// The origin cluster: each blob is owned by <see cref="Replicas"/> origins chosen by rendezvous
/// hashing of its digest over <see cref="Origins"/>; an upload is copied to the owners.
/// </summary>
public sealed class OriginClusterOptions : IValidatableObject
{
    /// <summary>
    /// This origin's base URL as the others reach it (one of <see cref="Origins"/>). Optional, but
    /// without it this origin cannot recognise itself and sends itself (discarded) copies. Default none.
    /// </summary>
    public string? Self { get; set; }

    /// <summary>Base URLs (http:// or https://) of every origin of the cluster, this one included. Default empty: standalone.</summary>
    public List<string> Origins { get; set; } = [];

    /// <summary>How many origins own each blob (capped at the number of origins). 1 to 16; default 2.</summary>
    [Range(1, 16)]
    public int Replicas { get; set; } = 2;

    /// <summary>
    /// Discovers the origins from DNS instead of <see cref="Origins"/> (the two are exclusive): every
    /// A/AAAA record of the name becomes an origin. Default none.
    /// </summary>
    public OriginDnsOptions? Dns { get; set; }

    /// <summary>Active health checks of the other origins (<c>GET /readiness</c>).</summary>
    [Required]
    public OriginHealthCheckOptions HealthCheck { get; set; } = new();

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Origins.Count; i++)
        {
            if (!TryParse(Origins[i], out var uri, out var error))
            {
                yield return new ValidationResult($"origins[{i}]: {error}", [nameof(Origins)]);
            }
            else if (!seen.Add(uri.AbsoluteUri))
            {
                yield return new ValidationResult($"'{Origins[i]}' is listed twice", [nameof(Origins)]);
            }
        }
        if (Dns is not null && Origins.Count > 0)
        {
            yield return new ValidationResult("set either origins or dns, not both", [nameof(Dns)]);
        }
        if (Self is not null)
        {
            if (!TryParse(Self, out var self, out var error))
            {
                yield return new ValidationResult(error, [nameof(Self)]);
            }
            else if (Origins.Count > 0 && !seen.Contains(self.AbsoluteUri))
            {
                yield return new ValidationResult($"'{Self}' is not one of the cluster's origins", [nameof(Self)]);
            }
        }
    }

    private static bool TryParse(string value, out Uri uri, out string error)
    {
        try
        {
            uri = ServiceEndpoint.Parse(value);
            error = string.Empty;
            return true;
        }
        catch (FormatException ex)
        {
            uri = null!;
            error = ex.Message;
            return false;
        }
    }
}

/// <summary>Origins discovered from DNS: each A/AAAA record of <see cref="Name"/> is <c>scheme://address:port</c>.</summary>
public sealed class OriginDnsOptions
{
    /// <summary>The name to resolve (e.g. a headless service). Required.</summary>
    [Required]
    public string Name { get; set; } = string.Empty;

    /// <summary>The origins' HTTP port. Default 15002.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = OriginOptions.DefaultPort;

    /// <summary>The origins' scheme, <c>http</c> or <c>https</c>. Default <c>http</c>.</summary>
    [Required]
    [RegularExpression("^https?$", ErrorMessage = "scheme must be http or https")]
    public string Scheme { get; set; } = "http";

    /// <summary>How often the name is resolved again. 1 second to 1 day; default 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Active health checks: every <see cref="Interval"/> each other origin's <c>GET /readiness</c> is
/// called; an origin that fails <see cref="FailureThreshold"/> checks in a row is skipped as an
/// owner until a check succeeds again.
/// </summary>
public sealed class OriginHealthCheckOptions
{
    /// <summary>Time between checks. 100 ms to 1 hour; default 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one check may take. 100 ms to 5 minutes; default 2 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Consecutive failed checks before an origin counts as unhealthy. 1 to 100; default 2.</summary>
    [Range(1, 100)]
    public int FailureThreshold { get; set; } = 2;
}
