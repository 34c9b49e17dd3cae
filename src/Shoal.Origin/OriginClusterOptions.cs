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
