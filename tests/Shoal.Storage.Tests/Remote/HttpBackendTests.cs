using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Shoal.Storage.Http;

namespace Shoal.Storage.Tests.Remote;

/// <summary>
/// The HTTP backend against a small Kestrel file server: GET/HEAD with ranges, PUT or POST that
/// stores a body only once it arrived whole, DELETE, and a required Authorization header.
/// </summary>
public sealed class HttpBackendTests : IAsyncLifetime
{
    private const string Token = "Bearer sesame";
    private readonly ConcurrentDictionary<string, (byte[] Data, DateTimeOffset Modified)> _files = new();
    private readonly ConcurrentQueue<string> _methods = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private TestServer _server = null!;
    private HttpBackend _backend = null!;

    private CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(app =>
        {
            app.Use(async (context, next) =>
            {
                _methods.Enqueue(context.Request.Method);
                if (context.Request.Headers.Authorization != Token)
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return;
                }
                await next(context);
            });
            app.MapMethods("/files/{**name}", ["GET", "HEAD"], (string name) =>
                _files.TryGetValue(name, out var file)
                    ? Results.Bytes(file.Data, "application/octet-stream", lastModified: file.Modified, enableRangeProcessing: true)
                    : Results.NotFound());
            app.MapMethods("/upload/{**name}", ["PUT", "POST"], async (string name, HttpRequest request) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
                if (body.Length != request.ContentLength)
                {
                    return Results.BadRequest();
                }
                _files[name] = (body.ToArray(), DateTimeOffset.UtcNow);
                return Results.Created();
            });
            app.MapDelete("/files/{**name}", (string name) => _files.TryRemove(name, out _) ? Results.NoContent() : Results.NotFound());
        });
        _backend = Create();
    }

    public async Task DisposeAsync()
    {
        _backend.Dispose();
        await _server.DisposeAsync();
        _timeout.Dispose();
    }

    private HttpBackend Create(string method = "PUT", bool delete = true, string token = Token) => new(new HttpBackendOptions
    {
        DownloadUrl = _server.Url + "/files/{name}",
        UploadUrl = _server.Url + "/upload/{name}",
        DeleteUrl = delete ? _server.Url + "/files/{name}" : null,
        UploadMethod = method,
        Headers = { ["Authorization"] = token },
    });

    [Fact]
    public Task UploadAsync_ThenOpenRead_RoundTrips() => BackendContract.RoundTripAsync(_backend, 300_000, Ct);

    [Fact]
    public Task UploadAsync_Empty_RoundTrips() => BackendContract.RoundTripAsync(_backend, 0, Ct);

    [Fact]
    public async Task UploadAsync_Post_UsesPost()
    {
        using var backend = Create(method: "post");
        await BackendContract.RoundTripAsync(backend, 1000, Ct);
        Assert.Contains("POST", _methods);
        Assert.DoesNotContain("PUT", _methods);
    }

    [Fact]
    public Task OpenReadAsync_Ranges_ReturnTheRequestedBytes() => BackendContract.RangeAsync(_backend, Ct);

    [Fact]
    public Task AbsentObject_IsNullOrFalse() => BackendContract.AbsentAsync(_backend, Ct);

    [Fact]
    public Task DeleteAsync_Existing_RemovesIt() => BackendContract.DeleteAsync(_backend, Ct);

    [Fact]
    public Task UploadAsync_Again_Replaces() => BackendContract.OverwriteAsync(_backend, Ct);

    [Fact]
    public Task UploadAsync_FailingOrWrongLengthContent_LeavesNothing() => BackendContract.FailedUploadLeavesNothingAsync(_backend, Ct);

    [Fact]
    public Task UploadAsync_FailedReplace_KeepsPrevious() => BackendContract.FailedReplaceKeepsPreviousAsync(_backend, Ct);

    [Fact]
    public async Task InvalidNames_AreRejectedBeforeAnyRequest()
    {
        await BackendContract.InvalidNamesAsync(_backend, Ct);
        Assert.Empty(_methods);
    }

    [Fact]
    public Task CancelledToken_Throws() => BackendContract.CancelledAsync(_backend);

    [Fact]
    public async Task ListAsync_IsNotSupported()
    {
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => _backend.ListAsync("", null, 10, Ct));
        Assert.Contains("cannot list", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteAsync_WithoutDeleteUrl_IsNotSupported()
    {
        using var backend = Create(delete: false);
        await Assert.ThrowsAsync<NotSupportedException>(() => backend.DeleteAsync("a/b", Ct));
    }

    [Fact]
    public async Task ServerErrors_Throw()
    {
        using var backend = Create(token: "Bearer wrong");
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => backend.StatAsync("a/b", Ct));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, ex.StatusCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => backend.UploadAsync("a/b", new MemoryStream([1]), 1, Ct));
        await Assert.ThrowsAsync<HttpRequestException>(() => backend.OpenReadAsync("a/b", 0, null, Ct));
    }

    [Theory]
    [InlineData("http://x/files", "http://x/up/{name}", "PUT")]
    [InlineData("ftp://x/{name}", "http://x/up/{name}", "PUT")]
    [InlineData("http://x/{name}", "http://x/up/{name}", "PATCH")]
    public void Constructor_BadOptions_Throws(string download, string upload, string method)
    {
        Assert.Throws<ArgumentException>(() => new HttpBackend(new HttpBackendOptions { DownloadUrl = download, UploadUrl = upload, UploadMethod = method }));
    }
}
