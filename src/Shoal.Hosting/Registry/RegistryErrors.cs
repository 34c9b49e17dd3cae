using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Shoal.Core.Registry;

namespace Shoal.Hosting.Registry;

/// <summary>Writes errors in the registry API's JSON format: <c>{"errors":[{"code","message","detail"}]}</c>.</summary>
public static class RegistryErrors
{
    /// <summary>A result that writes one registry error with <paramref name="status"/>.</summary>
    public static IResult Result(int status, RegistryErrorCode code, string message, object? detail = null)
        => new RegistryErrorResult(status, code, message, detail);

    /// <summary>Writes one registry error to <paramref name="context"/>'s response.</summary>
    public static Task WriteAsync(HttpContext context, int status, RegistryErrorCode code, string message, object? detail = null)
        => Result(status, code, message, detail).ExecuteAsync(context);

    private sealed class RegistryErrorResult(int status, RegistryErrorCode code, string message, object? detail) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = "application/json; charset=utf-8";
            if (HttpMethods.IsHead(httpContext.Request.Method))
            {
                return;
            }
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("errors");
                writer.WriteStartObject();
                writer.WriteString("code", code.ToString());
                writer.WriteString("message", message);
                if (detail is not null)
                {
                    writer.WritePropertyName("detail");
                    JsonSerializer.Serialize(writer, detail, detail.GetType());
                }
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            response.ContentLength = buffer.Length;
            await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), httpContext.RequestAborted);
        }
    }
}
