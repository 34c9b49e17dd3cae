using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.Storage;

namespace Shoal.Origin.Internal;

/// <summary>
/// Runs the tasks of the <see cref="WriteBackQueue"/>: uploads blobs to their namespace's backend
/// (then marks them persisted) and copies them to other origins. A failed task is retried with
/// exponential back-off (from <see cref="OriginWriteBackOptions.RetryMinDelay"/>, doubling, capped
/// at <see cref="OriginWriteBackOptions.RetryMaxDelay"/>, with jitter) until it succeeds; tasks
/// left in the queue by a previous process resume at start. <see cref="WriteBackAsync"/> is also
/// what a write-through upload runs inline before it is acknowledged.
/// </summary>
internal sealed class WriteBackWorker : BackgroundService
{
    private readonly WriteBackQueue _queue;
    private readonly BlobStore _store;
    private readonly BackendRouter _router;
    private readonly ClusterMembership _membership;
    private readonly BlobLeases _leases;
    private readonly OriginMetrics _metrics;
    private readonly OriginWriteBackOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _signalLock = new();
    private static readonly TimeSpan MaxIdle = TimeSpan.FromMinutes(1);
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<(Digest Digest, string Namespace), Task> _writing = new();

    public WriteBackWorker(WriteBackQueue queue, BlobStore store, BackendRouter router, ClusterMembership membership, BlobLeases leases,
        OriginMetrics metrics, OriginOptions options, TimeProvider time, ILogger<WriteBackWorker> logger)
    {
        _queue = queue;
        _store = store;
        _router = router;
        _membership = membership;
        _leases = leases;
        _metrics = metrics;
        _options = options.WriteBack;
        _time = time;
        _logger = logger;
    }

    /// <summary>Wakes the worker (new tasks were enqueued).</summary>
    public void Wake()
    {
        lock (_signalLock)
        {
            _signal.TrySetResult();
            _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>The delay before attempt <paramref name="attempts"/> + 1: doubling from the minimum, capped, then jittered into [50 %, 100 %].</summary>
    internal static TimeSpan BackOff(int attempts, TimeSpan min, TimeSpan max, double random)
    {
        var exponent = Math.Clamp(attempts - 1, 0, 40);
        var ticks = Math.Min((double)max.Ticks, min.Ticks * Math.Pow(2, exponent));
        return TimeSpan.FromTicks((long)(ticks * (0.5 + (random / 2))));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = new Dictionary<long, Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Task wake;
                lock (_signalLock)
                {
                    wake = _signal.Task;
                }
                foreach (var id in running.Where(r => r.Value.IsCompleted).Select(r => r.Key).ToArray())
                {
                    running.Remove(id);
                }
                using var delayCts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var waits = new List<Task> { wake };
                try
                {
                    var free = _options.Concurrency - running.Count;
                    if (free > 0)
                    {
                        foreach (var task in await _queue.DueAsync(free, running.Keys, stoppingToken))
                        {
                            running[task.Id] = RunAsync(task, stoppingToken);
                        }
                    }
                    if (running.Count < _options.Concurrency)
                    {
                        var next = await _queue.NextDueAsync(stoppingToken);
                        var delay = next is null ? MaxIdle : next.Value - _time.GetUtcNow() + TimeSpan.FromMilliseconds(1);
                        waits.Add(Task.Delay(delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxIdle ? MaxIdle : delay, _time, delayCts.Token));
                    }
                }
                catch (Microsoft.Data.Sqlite.SqliteException ex)
                {
                    Log.QueueFailed(_logger, ex);
                    waits.Add(Task.Delay(TimeSpan.FromSeconds(1), _time, delayCts.Token));
                }
                waits.AddRange(running.Values);
                await Task.WhenAny(waits);
                await delayCts.CancelAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        try
        {
            await Task.WhenAll(running.Values);
        }
        catch (Exception ex) when (ex is OperationCanceledException || stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunAsync(QueuedTask task, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            if (!Digest.TryParse(task.Digest, out var digest, out var error))
            {
                throw new InvalidDataException(error);
            }
            if (task.Kind == WriteBackKinds.Replicate)
            {
                await ReplicateAsync(digest, task, stoppingToken);
                await _queue.CompleteAsync(task.Id, CancellationToken.None);
            }
            else
            {
                await WriteBackAsync(digest, task.Namespace, stoppingToken);
                await _queue.FinishWriteBackAsync(digest, task.Id, null, () => MarkPersisted(digest), CancellationToken.None);
            }
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            var delay = BackOff(task.Attempts + 1, _options.RetryMinDelay, _options.RetryMaxDelay, Random.Shared.NextDouble());
            Log.TaskFailed(_logger, task.Kind, task.Digest, task.Target ?? "backend", task.Attempts + 1, delay, ex);
            if (task.Kind == WriteBackKinds.Replicate)
            {
                _metrics.Replications.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            }
            else
            {
                _metrics.WriteBacks.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            }
            try
            {
                await _queue.FailAsync(task.Id, _time.GetUtcNow() + delay, ex.Message, CancellationToken.None);
            }
            catch (Exception recordEx) when (recordEx is Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException)
            {
                Log.QueueFailed(_logger, recordEx);
            }
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the task stays queued and resumes with the next process.
        }
    }

    /// <summary>
    /// Writes the cached blob to the backend of namespace <paramref name="ns"/> unless it is there
    /// already: the one code path of a queued write-back task and of a write-through upload, whose
    /// callers then mark the blob persisted through <see cref="WriteBackQueue.FinishWriteBackAsync"/>
    /// (once no other storage awaits it). A call while another for the same blob and namespace is
    /// under way shares that attempt and its outcome. Throws when the backend does not take the blob.
    /// </summary>
    internal async Task WriteBackAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        var key = (digest, ns ?? string.Empty);
        var attempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var current = _writing.GetOrAdd(key, attempt.Task);
        if (current != attempt.Task)
        {
            await current.WaitAsync(cancellationToken);
            return;
        }
        try
        {
            await WriteBackOnceAsync(digest, ns, cancellationToken);
        }
        catch (Exception ex)
        {
            _writing.TryRemove(new KeyValuePair<(Digest, string), Task>(key, attempt.Task));
            attempt.SetException(ex);
            _ = attempt.Task.Exception; // observed: whoever shared the attempt rethrows it
            throw;
        }
        _writing.TryRemove(new KeyValuePair<(Digest, string), Task>(key, attempt.Task));
        attempt.SetResult();
    }

    private async Task WriteBackOnceAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        var info = _store.Stat(digest);
        if (info is null)
        {
            Log.WriteBackBlobGone(_logger, digest);
            return;
        }
        // Also when the blob is marked persisted: that may be for another namespace's storage.
        var backend = _router.Resolve(ns);
        if (backend is not null)
        {
            using var lease = _leases.Acquire(digest);
            var name = BackendNames.ForBlob(digest);
            var existing = await backend.StatAsync(name, cancellationToken);
            if (existing?.Size != info.Size)
            {
                await using var stream = _store.OpenRead(digest, touch: false) ?? throw new InvalidOperationException($"{digest} left the cache");
                await backend.UploadAsync(name, stream, stream.Length, cancellationToken);
            }
        }
        _metrics.WriteBacks.Add(1, new KeyValuePair<string, object?>("outcome", "ok"));
        Log.WrittenBack(_logger, digest, info.Size);
    }

    /// <summary>Marks a cached blob persisted (evictable); only from <see cref="WriteBackQueue.FinishWriteBackAsync"/>'s callback.</summary>
    internal void MarkPersisted(Digest digest) => _store.UpdateFlags(digest, persisted: true);

    private async Task ReplicateAsync(Digest digest, QueuedTask task, CancellationToken cancellationToken)
    {
        var target = task.Target!;
        if (!_membership.Members.Contains(target))
        {
            Log.ReplicaGone(_logger, digest, target);
            return;
        }
        using var lease = _leases.Acquire(digest);
        await using var stream = _store.OpenRead(digest, touch: false);
        if (stream is null)
        {
            Log.WriteBackBlobGone(_logger, digest);
            return;
        }
        await _membership.Client(target).UploadAsync(digest, stream, stream.Length, task.Namespace, replicate: false, cancellationToken);
        _metrics.Replications.Add(1, new KeyValuePair<string, object?>("outcome", "ok"));
        Log.Replicated(_logger, digest, target);
    }
}
