using System.Net;
using System.Text.Json;
using Shoal.Core.Registry;

namespace Shoal.Agent.Tests;

internal static class RegistryAssert
{
    public const string ApiVersionHeader = "Docker-Distribution-API-Version";

    /// <summary>Asserts a registry error response: status, the error code, and the API version header.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response, HttpStatusCode status, RegistryErrorCode code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("registry/2.0", Assert.Single(response.Headers.GetValues(ApiVersionHeader)));
        using var document = JsonDocument.Parse(body);
        var error = Assert.Single(document.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal(code.ToString(), error.GetProperty("code").GetString());
        return error.GetProperty("message").GetString() ?? "";
    }

    public static string Single(HttpResponseMessage response, string header)
        => Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : response.Content.Headers.GetValues(header));
}
