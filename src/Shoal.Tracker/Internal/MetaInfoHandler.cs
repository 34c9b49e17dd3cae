using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.Origin;
using Shoal.Core;

namespace Shoal.Tracker.Internal;

/// <summary>
/// <c>GET /v1/metainfo/{digest}?namespace=</c>: the blob's metainfo from its owning origins. Metainfo
/// never changes for a digest, so answers are cached (bounded, least recently used first out);
/// concurrent misses for the same blob share one origin request, so a whole cluster starting the
/// same pull costs the origins one call. 404 when no origin has the blob, 503 when none answers,
/// 202 Accepted (with the origin's <c>Retry-After</c>) while the owning origin fetches the blob from
/// its backend: the agent asks again, and no request is held open for the minutes a large cold
/// blob can take (until then a cold blob's metainfo timed out here, and every agent fell back to
/// fetching it whole from the origins).
/// </summary>
internal sealed class MetaInfoHandler
{
    private readonly OriginCluster _origins;
    private readonly TrackerOptions _options;
    private readonly TimeProvider _time;
    private readonly CancellationToken _stopping;
    private readonly ILogger<MetaInfoHandler> _logger;
    private readonly LruCache<Digest, byte[]> _cache;
    private readonly ConcurrentDictionary<(Digest Digest, string? Namespace), Task<Fetched>> _inFlight = new();
    private readonly TrackerMetrics _metrics;
    private int _sharedWaits;

    public MetaInfoHandler(OriginCluster origins, TrackerOptions options, TimeProvider time, IHostApplicationLifetime lifetime, TrackerMetrics metrics, ILogger<MetaInfoHandler> logger)
    {
        _metrics = metrics;
        _origins = origins;
        _options = options;
        _time = time;
        _stopping = lifetime.ApplicationStopping;
        _logger = logger;
        _cache = new LruCache<Digest, byte[]>(options.MetaInfoCacheBytes, static json => json.Length);
    }

    /// <summary>Cached metainfo documents.</summary>
    internal int CachedCount => _cache.Count;

    /// <summary>Requests that joined a fetch another request had started (for tests and diagnostics).</summary>
    internal int SharedWaits => Volatile.Read(ref _sharedWaits);

    public async Task<IResult> GetAsync(HttpContext context, string digest)
    {
        var (result, cached) = await HandleAsync(context, digest);
        _metrics.MetaInfo(result switch
        {
            IStatusCodeHttpResult { StatusCode: StatusCodes.Status404NotFound } => "not_found",
            IStatusCodeHttpResult { StatusCode: StatusCodes.Status400BadRequest } => "invalid",
            IStatusCodeHttpResult { StatusCode: >= 400 } => "failed",
            IStatusCodeHttpResult { StatusCode: StatusCodes.Status202Accepted } => "pending",
            _ => cached ? "cached" : "fetched",
        });
        return result;
    }

    private async Task<(IResult Result, bool Cached)> HandleAsync(HttpContext context, string digest)
    {
        if (!Digest.TryParse(digest, out var parsed, out var error))
        {
            return (Problems.Create(StatusCodes.Status400BadRequest, "invalid digest", error), false);
        }
        if (!Problems.TryValidateNamespace(context.Request.Query["namespace"], out var ns, out var problem))
        {
            return (problem, false);
        }
        if (_cache.TryGet(parsed, out var json))
        {
            return (Results.Bytes(json, "application/json"), true);
        }
        Fetched fetched;
        try
        {
            fetched = await FetchSharedAsync(parsed, ns).WaitAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is TimeoutException or ServiceException or FormatException
                                   || (ex is OperationCanceledException && _stopping.IsCancellationRequested))
        {
            return (Failure(parsed, ex), false);
        }
        if (fetched.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (Results.StatusCode(StatusCodes.Status202Accepted), false);
        }
        if (fetched.Json is null)
        {
            return (Problems.Create(StatusCodes.Status404NotFound, "blob unknown", $"no origin has {parsed}"), false);
        }
        return (Results.Bytes(fetched.Json, "application/json"), false);
    }

    private Task<Fetched> FetchSharedAsync(Digest digest, string? ns)
    {
        var key = (digest, ns);
        while (true)
        {
            if (_inFlight.TryGetValue(key, out var running))
            {
                Interlocked.Increment(ref _sharedWaits);
                return running;
            }
            var completion = new TaskCompletionSource<Fetched>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight.TryAdd(key, completion.Task))
            {
                _ = FetchAsync(key, completion);
                return completion.Task;
            }
        }
    }

    /// <summary>
    /// Fetches on behalf of every waiter: it is bounded by <see cref="TrackerOptions.OriginTimeout"/>
    /// and shutdown, not by the first caller's request, whose client may go away.
    /// </summary>
    private async Task FetchAsync((Digest Digest, string? Namespace) key, TaskCompletionSource<Fetched> completion)
    {
        using var timeout = new CancellationTokenSource(_options.OriginTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping);
        try
        {
            var answer = await _origins.LookupMetaInfoAsync(key.Digest, key.Namespace, linked.Token);
            var json = answer.Info?.ToJson();
            if (json is not null)
            {
                _cache.Set(key.Digest, json);
                Log.MetaInfoFetched(_logger, key.Digest, answer.Info!.PieceCount);
            }
            completion.SetResult(new Fetched(json, answer.RetryAfter));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            completion.SetException(new TimeoutException($"the origins did not answer within {_options.OriginTimeout.TotalSeconds:0.###} s"));
        }
        catch (Exception ex)
        {
            completion.SetException(ex);
        }
        finally
        {
            _inFlight.TryRemove(KeyValuePair.Create(key, completion.Task));
        }
    }

    private IResult Failure(Digest digest, Exception ex)
    {
        if (ex is OperationCanceledException)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "shutting down", "the tracker is stopping");
        }
        if (ex is TimeoutException || (ex is ServiceException service && (service.StatusCode == 0 || (int)service.StatusCode >= 500)))
        {
            // OriginCluster's "no origin is reachable" carries the last origin's failure inside.
            var reason = ex.InnerException is { } inner ? $"{ex.Message}: {inner.Message}" : ex.Message;
            Log.OriginsUnavailable(_logger, digest, reason);
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "origins unavailable", reason);
        }
        // An origin answered, but with something other than metainfo or 404.
        Log.OriginAnswerRefused(_logger, digest, ex.Message);
        return Problems.Create(StatusCodes.Status502BadGateway, "bad origin answer", ex.Message);
    }

    /// <summary>What the origins said: the metainfo's JSON, nothing (not found), or pending (ask again after <paramref name="RetryAfter"/>).</summary>
    private readonly record struct Fetched(byte[]? Json, TimeSpan? RetryAfter);
}
