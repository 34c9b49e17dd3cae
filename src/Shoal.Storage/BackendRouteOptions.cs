using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace Shoal.Storage;

/// <summary>
/// One routing rule: namespaces (repositories) matching <see cref="Namespace"/> are stored in
/// <see cref="Backend"/>. Rules are tried in order; the first match wins (Kraken's namespace rules).
/// <code>
/// backends:
///   - namespace: "library/.*"
///     backend: { type: registry, registry: { address: https://index.docker.io } }
///   - namespace: ".*"
///     backend: { type: filesystem, root: /var/lib/shoal/backend }
/// </code>
/// A component may extend the rule with its own keys (the origin's write mode).
/// </summary>
public class BackendRouteOptions : IValidatableObject
{
    /// <summary>A .NET regular expression that must match the whole namespace. Default <c>.*</c> (everything).</summary>
    [Required]
    public string Namespace { get; set; } = ".*";

    /// <summary>The backend of the matching namespaces. Required.</summary>
    [Required]
    public BackendOptions? Backend { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string? error = null;
        try
        {
            _ = BackendRouter.Compile(Namespace);
        }
        catch (ArgumentException ex)
        {
            error = $"'{Namespace}' is not a valid regular expression: {ex.Message}";
        }
        if (error is not null)
        {
            yield return new ValidationResult(error, [nameof(Namespace)]);
        }
    }
}
