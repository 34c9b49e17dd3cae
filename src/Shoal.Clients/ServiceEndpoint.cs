namespace Shoal.Clients;

/// <summary>Helpers for the base URLs of Shoal services (scheme from configuration, never assumed).</summary>
public static class ServiceEndpoint
{
    /// <summary>Parses an absolute http(s) base URL and makes sure it ends with a slash.</summary>
    public static Uri Parse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new FormatException($"'{url}' is not an absolute http:// or https:// URL");
        }
        return uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    /// <summary>Why <paramref name="url"/> is not a base URL <see cref="Parse"/> accepts, or null when it is.</summary>
    public static string? ParseError(string? url)
    {
        try
        {
            Parse(url ?? string.Empty);
            return null;
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>Escapes each segment of a repository name, keeping the slashes between them.</summary>
    public static string EscapeName(string repository)
        => string.Join('/', repository.Split('/').Select(Uri.EscapeDataString));
}
