using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Shoal.Core;
using Shoal.Hosting;

namespace Shoal.Agent.Tests;

/// <summary>
/// A tiny Kestrel app that speaks the origin's blob API (<c>HEAD|GET /v1/blobs/{digest}</c>) and can
/// misbehave on purpose: serve bytes that do not match the digest, fail with 500, stall, or hold
/// every GET until the test releases it.
/// </summary>
internal sealed class FakeOrigin : IAsyncDisposable
{
    private readonly Dictionary<Digest, byte[]> _blobs = [];
    private readonly WebApplication _app;
    private TaskCompletionSource _gate = CompletedGate();
    private int _gets;

    private FakeOrigin(WebApplication app) => _app = app;

    public enum Behaviour
    {
        Honest,
        Corrupt,
        Fail,
        Stall,
    }

    public Behaviour Mode { get; set; }

    public Uri BaseAddress => _app.BaseAddress();

    /// <summary>GET requests for blobs received so far.</summary>
    public int Gets => Volatile.Read(ref _gets);

    public static async Task<FakeOrigin> StartAsync()
    {
        var builder = ServiceHost.CreateBuilder("fake-origin", new ListenOptions { Port = 0 }, Microsoft.Extensions.Logging.LogLevel.Warning);
        var app = builder.Build();
        var origin = new FakeOrigin(app);
        app.MapMethods("/v1/blobs/{digest}", ["GET", "HEAD"], origin.ServeAsync);
        app.MapGet("/readiness", () => "OK");
        await app.StartAsync();
        return origin;
    }

    public Digest Add(byte[] content)
    {
        var digest = Digest.Compute(content);
        lock (_blobs)
        {
            _blobs[digest] = content;
        }
        return digest;
    }

    /// <summary>From now on every GET waits until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.DisposeAsync();
    }

    private async Task ServeAsync(HttpContext context, string digest)
    {
        byte[]? content = null;
        if (Digest.TryParse(digest, out var parsed))
        {
            lock (_blobs)
            {
                _blobs.TryGetValue(parsed, out content);
            }
        }
        if (content is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (Mode == Behaviour.Fail)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsync("origin is broken");
            return;
        }
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = content.Length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        Interlocked.Increment(ref _gets);
        await _gate.Task.WaitAsync(context.RequestAborted);
        switch (Mode)
        {
            case Behaviour.Corrupt:
                var wrong = (byte[])content.Clone();
                wrong[wrong.Length / 2] ^= 0xFF;
                await context.Response.Body.WriteAsync(wrong, context.RequestAborted);
                break;
            case Behaviour.Stall:
                await context.Response.Body.WriteAsync(content.AsMemory(0, content.Length / 2), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
                break;
            default:
                await context.Response.Body.WriteAsync(content, context.RequestAborted);
                break;
        }
    }

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource();
        gate.SetResult();
        return gate;
    }
}
