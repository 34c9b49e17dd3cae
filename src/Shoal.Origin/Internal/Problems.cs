using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Origin.Internal;

/// <summary>ProblemDetails answers and the request parsing that produces them.</summary>
internal static class Problems
{
    public static IResult Create(int status, string title, string detail)
        => Results.Problem(title: title, detail: detail, statusCode: status);

    /// <summary>Parses the route's digest, or says why it is not one (400).</summary>
    public static bool TryParseDigest(string value, out Digest digest, [NotNullWhen(false)] out IResult? problem)
    {
        if (Digest.TryParse(value, out digest, out var error))
        {
            problem = null;
            return true;
        }
        problem = Create(StatusCodes.Status400BadRequest, "invalid digest", error);
        return false;
    }

    /// <summary>
    /// The optional namespace query parameter <paramref name="key"/> (<c>namespace</c> unless said
    /// otherwise), which must be a repository name when present.
    /// </summary>
    public static bool TryGetNamespace(HttpRequest request, out string? ns, [NotNullWhen(false)] out IResult? problem, string key = "namespace")
    {
        ns = request.Query[key].FirstOrDefault();
        problem = null;
        if (string.IsNullOrEmpty(ns))
        {
            ns = null;
            return true;
        }
        if (RepositoryName.IsValid(ns, out var error))
        {
            return true;
        }
        problem = Create(StatusCodes.Status400BadRequest, "invalid namespace", key == "namespace" ? error : key + ": " + error);
        return false;
    }

    /// <summary>The optional <c>replicate</c> query parameter (default true).</summary>
    public static bool TryGetReplicate(HttpRequest request, out bool replicate, [NotNullWhen(false)] out IResult? problem)
    {
        var value = request.Query["replicate"].FirstOrDefault();
        problem = null;
        replicate = true;
        if (string.IsNullOrEmpty(value) || bool.TryParse(value, out replicate))
        {
            return true;
        }
        problem = Create(StatusCodes.Status400BadRequest, "invalid replicate", $"replicate must be true or false, not '{value}'");
        return false;
    }
}
