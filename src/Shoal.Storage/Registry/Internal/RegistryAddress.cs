using System.Diagnostics.CodeAnalysis;
using Shoal.Core.Registry;

namespace Shoal.Storage.Registry.Internal;

/// <summary>A registry's base URL, with Docker Hub's aliases and naming rules.</summary>
internal sealed class RegistryAddress
{
    /// <summary>Where Docker Hub's registry API lives.</summary>
    public static readonly Uri DockerHub = new("https://registry-1.docker.io/");

    private static readonly string[] DockerHubHosts = ["docker.io", "index.docker.io", "registry-1.docker.io"];

    private RegistryAddress(Uri baseUri, bool isDockerHub)
    {
        BaseUri = baseUri;
        IsDockerHub = isDockerHub;
    }

    /// <summary>The base URL, ending in <c>/</c>; API paths (<c>v2/…</c>) are relative to it.</summary>
    public Uri BaseUri { get; }

    /// <summary>True for Docker Hub, whose one-segment repository names live under <c>library/</c>.</summary>
    public bool IsDockerHub { get; }

    public static RegistryAddress Parse(string address)
        => TryParse(address, out var parsed, out var error) ? parsed : throw new ArgumentException(error, nameof(address));

    public static bool TryParse(string? address, [NotNullWhen(true)] out RegistryAddress? parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = null;
        var text = address?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "registry address is empty";
            return false;
        }
        var bare = text.TrimEnd('/');
        foreach (var prefix in (string[])["https://", ""])
        {
            if (prefix.Length > 0 && !bare.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (DockerHubHosts.Contains(bare[prefix.Length..], StringComparer.OrdinalIgnoreCase))
            {
                parsed = new RegistryAddress(DockerHub, isDockerHub: true);
                error = null;
                return true;
            }
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            error = $"registry address '{text}' is not an absolute http:// or https:// URL";
            return false;
        }
        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            error = $"registry address '{text}' must not have a query, fragment or user information";
            return false;
        }
        var path = uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/";
        var baseUri = new UriBuilder(uri) { Path = path }.Uri;
        parsed = new RegistryAddress(baseUri, DockerHubHosts.Contains(uri.Host, StringComparer.OrdinalIgnoreCase));
        error = null;
        return true;
    }

    /// <summary>
    /// The repository name as the registry knows it (Docker Hub: <c>alpine</c> → <c>library/alpine</c>);
    /// throws <see cref="ArgumentException"/> for an invalid name.
    /// </summary>
    public string Repository(string name, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(name))] string? paramName = null)
    {
        if (!RepositoryName.IsValid(name, out var error))
        {
            throw new ArgumentException(error, paramName);
        }
        return IsDockerHub && !name.Contains('/', StringComparison.Ordinal) ? "library/" + name : name;
    }

    /// <summary>The URL of API path <paramref name="relative"/> (<c>v2/…</c>).</summary>
    public Uri Api(string relative) => new(BaseUri, relative);

    public override string ToString() => BaseUri.ToString();
}
