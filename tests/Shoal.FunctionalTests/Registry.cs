using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Shoal.FunctionalTests;

/// <summary>Plain Registry V2 reads, to see exactly what a Shoal endpoint stored and serves.</summary>
internal static class Registry
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = true }) { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The manifest bytes, media type and <c>Docker-Content-Digest</c> of <paramref name="reference"/>.</summary>
    public static async Task<(byte[] Bytes, string MediaType, string Digest)> GetManifestAsync(Uri endpoint, string repository, string reference, params string[] accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, $"v2/{repository}/manifests/{reference}"));
        foreach (var mediaType in accept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        }
        using var response = await Http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET manifest {repository}:{reference} → {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes)}");
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.Single() : string.Empty;
        return (bytes, response.Content.Headers.ContentType?.MediaType ?? string.Empty, digest);
    }

    /// <summary>The bytes of blob <paramref name="digest"/> (small test blobs only).</summary>
    public static async Task<byte[]> GetBlobAsync(Uri endpoint, string repository, string digest)
    {
        using var response = await Http.GetAsync(new Uri(endpoint, $"v2/{repository}/blobs/{digest}"));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET blob {repository}@{digest} → {(int)response.StatusCode}");
        return bytes;
    }

    /// <summary>The tags <c>GET /v2/REPOSITORY/tags/list</c> lists.</summary>
    public static async Task<IReadOnlyList<string>> GetTagsAsync(Uri endpoint, string repository)
    {
        using var response = await Http.GetAsync(new Uri(endpoint, $"v2/{repository}/tags/list"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET tags of {repository} from {endpoint} → {(int)response.StatusCode}: {body}");
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList();
    }

    /// <summary>The status of <c>GET /v2/</c>.</summary>
    public static async Task<int> PingAsync(Uri endpoint)
    {
        using var response = await Http.GetAsync(new Uri(endpoint, "v2/"));
        return (int)response.StatusCode;
    }

    public static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
}
