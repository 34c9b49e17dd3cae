using System.Net.Http.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Proxy.Internal;

namespace Shoal.Proxy.Preheat;

/// <summary>
/// Runs preheat jobs, <see cref="PreheatOptions.Concurrency"/> at a time: fetch the manifest (and the
/// selected platforms of an index), then ask the origins that own each config and layer blob for its
/// metainfo — an origin that misses the blob fetches it from its backend and hashes it — and, for
/// scope all_peers, ask every configured agent to preload the blobs. Jobs left unfinished by a
/// stop run again at the next start.
/// </summary>
internal sealed partial class PreheatRunner(
    JobStore store,
    ManifestSource manifests,
    OriginCluster origins,
    AgentDirectory agents,
    HttpClient http,
    ProxyOptions proxyOptions,
    TimeProvider time,
    ProxyMetrics metrics,
    ILogger<PreheatRunner> logger) : BackgroundService
{
    private readonly Channel<long> _queue = Channel.CreateUnbounded<long>();
    private readonly PreheatOptions _options = proxyOptions.Preheat;

    /// <summary>Queues a job (created pending).</summary>
    public void Enqueue(long id) => _queue.Writer.TryWrite(id);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        store.Purge();
        foreach (var id in store.Unfinished())
        {
            Enqueue(id);
        }
        var workers = Enumerable.Range(0, _options.Concurrency).Select(_ => WorkAsync(stoppingToken)).ToArray();
        await Task.WhenAll([.. workers, PurgeAsync(stoppingToken)]);
    }

    /// <summary>Forgets finished jobs past the retention, hourly.</summary>
    private async Task PurgeAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                store.Purge();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await RunAsync(id, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    internal async Task RunAsync(long id, CancellationToken stoppingToken)
    {
        if (store.Get(id) is not { } job || JobState.IsFinished(job.State))
        {
            return;
        }
        var request = job.Request;
        var timeout = request.Timeout ?? _options.Timeout;
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timer.Token);
        var cancellationToken = linked.Token;
        store.Update(id, j =>
        {
            j.State = JobState.Running;
            j.Error = null;
        });
        LogStarted(logger, id, request.Repository, request.Reference, request.Scope);
        try
        {
            var headers = store.Headers(id);
            if (request.Upstream is not null && PullToken.ExpiredAt(headers) is { } expired && expired <= time.GetUtcNow())
            {
                throw new PreheatException(
                    $"the pull token passed with the request expired at {expired.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, before the job could fetch the manifest; "
                    + "Harbor issues it when it creates the task (valid 30 minutes by default): run the preheat policy again");
            }
            var top = await manifests.FetchAsync(request, headers, request.Reference, cancellationToken);
            if (request.Digest is not null && top.Digest.ToString() != request.Digest)
            {
                throw new PreheatException($"{request.Repository}:{request.Reference} is {top.Digest} now, not {request.Digest}");
            }
            var blobs = await CollectBlobsAsync(request, headers, top, cancellationToken);
            store.Update(id, j =>
            {
                j.ManifestDigest = top.Digest.ToString();
                j.MediaType = top.Document.MediaType;
                j.Blobs = blobs;
            });
            await Parallel.ForEachAsync(blobs, new ParallelOptions { MaxDegreeOfParallelism = _options.BlobConcurrency, CancellationToken = cancellationToken },
                (blob, ct) => new ValueTask(WarmAsync(id, request, blob, ct)));
            if (request.Scope == PreheatScope.AllPeers)
            {
                await PreloadAgentsAsync(id, request, blobs, cancellationToken);
            }
            if (store.Get(id) is not { } final)
            {
                return;
            }
            var failed = final.Blobs.Where(b => b.State == JobState.Failed).Select(b => $"{b.Digest}: {b.Error}")
                .Concat(final.Agents.Where(a => a.State == JobState.Failed).Select(a => $"agent {a.Url}: {a.Error}"))
                .ToArray();
            Finish(id, failed.Length == 0 ? null : $"{failed.Length} failed: {string.Join("; ", failed.Take(5))}");
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            Finish(id, $"timed out after {timeout}");
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the job stays unfinished on disk and runs again at the next start.
            store.Update(id, j => j.State = JobState.Pending);
        }
        catch (Exception ex) when (ex is PreheatException or ServiceException or HttpRequestException or InvalidDataException or IOException)
        {
            Finish(id, ex.Message);
        }
    }

    private void Finish(long id, string? error)
    {
        store.Update(id, j =>
        {
            j.State = error is null ? JobState.Succeeded : JobState.Failed;
            j.Error = error;
        });
        metrics.PreheatFinished(error is null);
        if (error is null)
        {
            LogSucceeded(logger, id);
        }
        else
        {
            LogFailed(logger, id, error);
        }
    }

    private async Task<List<BlobProgress>> CollectBlobsAsync(PreheatRequest request, IReadOnlyDictionary<string, string> headers, FetchedManifest top, CancellationToken cancellationToken)
    {
        var result = new List<BlobProgress>();
        var seen = new HashSet<Digest>();
        void Add(ManifestDocument document, string? platform)
        {
            foreach (var blob in document.Blobs)
            {
                if (seen.Add(blob.Digest))
                {
                    result.Add(new BlobProgress { Digest = blob.Digest.ToString(), MediaType = blob.MediaType, Size = blob.Size, Platform = platform });
                }
            }
        }
        if (!top.Document.IsIndex)
        {
            Add(top.Document, null);
            return result;
        }
        var filter = request.Platforms.Count > 0 ? request.Platforms : _options.Platforms;
        var selected = top.Document.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && !MediaTypes.IsIndex(m.MediaType) && PlatformFilter.Matches(filter, m.Platform)).ToArray();
        if (selected.Length == 0)
        {
            throw new PreheatException(filter.Count == 0
                ? $"index {top.Digest} lists no image manifest"
                : $"index {top.Digest} has no manifest for {string.Join(", ", filter)}");
        }
        foreach (var child in selected)
        {
            var fetched = await manifests.FetchAsync(request, headers, child.Digest.ToString(), cancellationToken);
            if (fetched.Document.IsIndex)
            {
                throw new PreheatException($"index {top.Digest} nests index {child.Digest}: not supported");
            }
            Add(fetched.Document, child.Platform?.ToString());
        }
        return result;
    }

    private async Task WarmAsync(long id, PreheatRequest request, BlobProgress blob, CancellationToken cancellationToken)
    {
        var digest = Digest.Parse(blob.Digest);
        var owners = origins.Owners(digest);
        var all = request.Scope != PreheatScope.SingleSeedPeer;
        var errors = new List<TargetResult>();
        var successes = new List<TargetResult>();
        foreach (var origin in owners)
        {
            var target = new TargetResult { Url = origin.BaseAddress.AbsoluteUri };
            var unreachable = false;
            try
            {
                var info = await origin.GetMetaInfoAsync(digest, request.Repository, cancellationToken);
                if (info is null)
                {
                    target.State = JobState.Failed;
                    target.Error = "the origin does not have the blob and its backend could not provide it";
                }
                else
                {
                    target.State = JobState.Succeeded;
                }
            }
            catch (Exception ex) when (ex is ServiceException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                target.State = JobState.Failed;
                target.Error = ex.Message;
                unreachable = OriginCluster.IsUnreachable(ex, cancellationToken);
            }
            (target.State == JobState.Succeeded ? successes : errors).Add(target);
            // single_seed_peer: stop at the first owner that has it or answered; fail over only when unreachable.
            if (!all && !unreachable)
            {
                break;
            }
        }
        store.Update(id, j =>
        {
            var live = j.Blobs.First(b => b.Digest == blob.Digest);
            live.Targets = [.. successes, .. errors];
            var ok = all ? errors.Count == 0 : successes.Count > 0;
            live.State = ok ? JobState.Succeeded : JobState.Failed;
            live.Error = ok ? null : string.Join("; ", errors.Select(e => $"{e.Url}: {e.Error}"));
        });
    }

    private async Task PreloadAgentsAsync(long id, PreheatRequest request, List<BlobProgress> blobs, CancellationToken cancellationToken)
    {
        var body = new PreloadBody { Repository = request.Repository, Blobs = blobs.Select(b => b.Digest).ToList() };
        // Resolved again for every job: DNS entries (a headless Service) follow the agents that exist now.
        var targets = await agents.ResolveAsync(cancellationToken);
        var results = await Task.WhenAll(targets.Select(async agent =>
        {
            if (agent.Url is null)
            {
                return new TargetResult { Url = agent.Source, State = JobState.Failed, Error = agent.Error };
            }
            var target = new TargetResult { Url = agent.Url.AbsoluteUri };
            try
            {
                using var response = await http.PostAsJsonAsync(new Uri(agent.Url, "v1/preload"), body, PreloadJsonContext.Default.PreloadBody, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    target.State = JobState.Succeeded;
                }
                else
                {
                    target.State = JobState.Failed;
                    target.Error = $"answered {(int)response.StatusCode}: {Truncate(await response.Content.ReadAsStringAsync(cancellationToken))}";
                }
            }
            catch (HttpRequestException ex)
            {
                target.State = JobState.Failed;
                target.Error = ex.Message;
            }
            return target;
        }));
        store.Update(id, j => j.Agents = [.. results]);
    }

    private static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "…";

    [LoggerMessage(110, LogLevel.Information, "Preheat job {Id} started: {Repository}:{Reference} scope {Scope}")]
    private static partial void LogStarted(ILogger logger, long id, string repository, string reference, string scope);

    [LoggerMessage(111, LogLevel.Information, "Preheat job {Id} succeeded")]
    private static partial void LogSucceeded(ILogger logger, long id);

    [LoggerMessage(112, LogLevel.Warning, "Preheat job {Id} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, long id, string error);
}

/// <summary>Body of an agent's <c>POST /v1/preload</c>.</summary>
internal sealed class PreloadBody
{
    [System.Text.Json.Serialization.JsonPropertyName("repository")]
    public string Repository { get; set; } = string.Empty;

    [System.Text.Json.Serialization.JsonPropertyName("reference")]
    public string? Reference { get; set; }

    [System.Text.Json.Serialization.JsonPropertyName("blobs")]
    public List<string> Blobs { get; set; } = [];
}

[System.Text.Json.Serialization.JsonSerializable(typeof(PreloadBody))]
internal sealed partial class PreloadJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
