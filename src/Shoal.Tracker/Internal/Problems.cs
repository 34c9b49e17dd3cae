using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Shoal.Core.Registry;

namespace Shoal.Tracker.Internal;

/// <summary>ProblemDetails answers and the shared request validation that produces them.</summary>
internal static class Problems
{
    public static IResult Create(int status, string title, string detail)
        => Results.Problem(title: title, detail: detail, statusCode: status);

    /// <summary>A namespace (the repository a blob belongs to) is optional, and a repository name when present.</summary>
    public static bool TryValidateNamespace(string? ns, out string? normalized, [NotNullWhen(false)] out IResult? problem)
    {
        normalized = string.IsNullOrEmpty(ns) ? null : ns;
        if (normalized is null || RepositoryName.IsValid(normalized, out var error))
        {
            problem = null;
            return true;
        }
        problem = Create(StatusCodes.Status400BadRequest, "invalid namespace", error);
        return false;
    }

    public static string Truncate(string? value)
        => value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";
}
