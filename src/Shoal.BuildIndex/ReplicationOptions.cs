using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Shoal.Clients;
using Shoal.Hosting;

namespace Shoal.BuildIndex;

/// <summary>
/// One replication rule (<c>buildIndex:replication:N</c>): tags of the repositories whose name the
/// expression matches (whole name) are copied to a remote cluster — every blob and manifest the tag
/// needs into the remote origins, then the records and the tag into the remote build-index.
/// </summary>
public sealed class ReplicationRuleOptions : IValidatableObject
{
    /// <summary>Regular expression that must match the whole repository name, e.g. <c>library/.*</c>. Required.</summary>
    [Required]
    public string Repositories { get; set; } = string.Empty;

    /// <summary>The cluster the tags go to. Required.</summary>
    [Required]
    public RemoteClusterOptions Remote { get; set; } = new();

    /// <summary>
    /// When true, deleting a tag here deletes it in the remote build-index too (queued and retried
    /// like a copy). Default false: the remote's tags are only ever written, never removed (like
    /// Harbor's "delete remote resources when locally deleted", off unless asked for).
    /// </summary>
    public bool Deletes { get; set; }

    /// <summary>True when <paramref name="repository"/> is one of this rule's.</summary>
    public bool Matches(string repository) => Regex.IsMatch(repository, $"^(?:{Repositories})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string? error = null;
        try
        {
            _ = new Regex(Repositories, RegexOptions.CultureInvariant);
        }
        catch (ArgumentException ex)
        {
            error = $"'{Repositories}' is not a regular expression: {ex.Message}";
        }
        if (error is not null)
        {
            yield return new ValidationResult(error, [nameof(Repositories)]);
        }
    }
}

/// <summary>A remote Shoal cluster: its build-index and its origins (<c>buildIndex:replication:N:remote</c>).</summary>
public sealed class RemoteClusterOptions : IValidatableObject
{
    /// <summary>Base URL of the remote build-index, e.g. <c>https://build-index.dc2:15004</c>. Required.</summary>
    [Required]
    public string BuildIndex { get; set; } = string.Empty;

    /// <summary>Base URLs of every origin of the remote cluster (blobs go to their owners there). Required.</summary>
    [Required]
    [MinLength(1)]
    public List<string> Origins { get; set; } = [];

    /// <summary>How many origins own each blob in the remote cluster (its origins' own setting). Default 2.</summary>
    [Range(1, 16)]
    public int Replicas { get; set; } = 2;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(BuildIndex) && ServiceEndpoint.ParseError(BuildIndex) is { } error)
        {
            yield return new ValidationResult(error, [nameof(BuildIndex)]);
        }
        for (var i = 0; i < Origins.Count; i++)
        {
            if (ServiceEndpoint.ParseError(Origins[i]) is { } originError)
            {
                yield return new ValidationResult(originError, [$"{nameof(Origins)}:{i}"]);
            }
        }
    }
}
