using System.ComponentModel.DataAnnotations;

namespace Shoal.Storage;

/// <summary>
/// Which backend a component stores its objects in, as configured, e.g.
/// <code>
/// backend:
///   type: filesystem
///   root: /var/lib/shoal/backend
/// </code>
/// Build one with <see cref="BackendFactory.Create"/>.
/// </summary>
public sealed class BackendOptions : IValidatableObject
{
    /// <summary>The <see cref="FileSystemBackend"/> type name.</summary>
    public const string FileSystem = "filesystem";

    /// <summary>The backend type. Supported: <c>filesystem</c>. Required.</summary>
    [Required]
    public string Type { get; set; } = string.Empty;

    /// <summary>For <c>filesystem</c>: the directory objects are stored under (created when missing). Required for that type.</summary>
    public string? Root { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(Type))
        {
            yield break; // [Required] already reports it.
        }
        if (!string.Equals(Type, FileSystem, StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult($"unknown backend type '{Type}'; supported: {FileSystem}", [nameof(Type)]);
            yield break;
        }
        if (string.IsNullOrWhiteSpace(Root))
        {
            yield return new ValidationResult($"a {FileSystem} backend needs a root directory", [nameof(Root)]);
        }
    }
}
