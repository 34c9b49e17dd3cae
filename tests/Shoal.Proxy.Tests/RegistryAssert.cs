using System.Net;
using System.Text.Json;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Tests;

/// <summary>Assertions on registry API responses.</summary>
internal static class RegistryAssert
{
    public const string ApiVersionHeader = "Docker-Distribution-API-Version";

    /// <summary>Asserts the status (showing the body when it differs) and the API version header.</summary>
    public static async Task StatusAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Fail($"expected {(int)status} {status}, got {(int)response.StatusCode} {response.StatusCode}: {body}");
        }
        Assert.Equal("registry/2.0", Header(response, ApiVersionHeader));
    }

    /// <summary>Asserts a registry error response: status, error code and API version header; returns the error's message.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response, HttpStatusCode status, RegistryErrorCode code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("registry/2.0", Header(response, ApiVersionHeader));
        if (response.RequestMessage?.Method == HttpMethod.Head)
        {
            return "";
        }
        using var document = JsonDocument.Parse(body);
        var error = Assert.Single(document.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal(code.ToString(), error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message!;
    }

    /// <summary>The error's <c>detail.&lt;property&gt;</c>.</summary>
    public static async Task<string?> DetailAsync(HttpResponseMessage response, string property)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = document.RootElement.GetProperty("errors")[0];
        return error.TryGetProperty("detail", out var detail) && detail.TryGetProperty(property, out var value) ? value.GetString() : null;
    }

    /// <summary>The single value of a response or content header.</summary>
    public static string Header(HttpResponseMessage response, string name)
    {
        if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
        {
            return Assert.Single(values);
        }
        Assert.Fail($"response has no {name} header");
        return "";
    }

    public static bool HasHeader(HttpResponseMessage response, string name)
        => response.Headers.Contains(name) || response.Content.Headers.Contains(name);
}
