using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// Copies queued tags to remote clusters (<see cref="BuildIndexOptions.Replication"/>), one task at
/// a time: for the tag's manifest (and, for an index, each child manifest first) every blob goes to
/// the remote origins unless they hold it already (read from this cluster's origins into a
/// temporary file, its digest checked, then uploaded: the remote owner verifies it again), its link
/// and the manifest record go to the remote build-index, and last the tag, marked not to replicate
/// further. A deletion (rules with <see cref="ReplicationRuleOptions.Deletes"/>) deletes the remote
/// tag, marked the same way. A failed task waits 1 s, 2 s, 4 s … up to <see cref="BuildIndexOptions.ReplicationRetryMax"/>.
/// </summary>
internal sealed partial class Replicator : BackgroundService
{
    /// <summary>How deep an index may nest (an index of indexes is legal; deeper is refused).</summary>
    private const int MaxNesting = 4;

    private readonly ReplicationQueue _queue;
    private readonly ITagStore _store;
    private readonly OriginCluster _local;
    private readonly Dictionary<string, (OriginCluster Origins, BuildIndexClient Index)> _remotes;
    private readonly BuildIndexOptions _options;
    private readonly BuildIndexMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<Replicator> _logger;
    private readonly string _spool;
    private readonly SemaphoreSlim _wake = new(0);

    public Replicator(ReplicationQueue queue, ITagStore store, HttpClient http, BuildIndexOptions options, BuildIndexMetrics metrics, TimeProvider time, ILogger<Replicator> logger)
    {
        _queue = queue;
        _store = store;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _local = new OriginCluster(http, options.Origins.Select(ServiceEndpoint.Parse), options.Replicas);
        _remotes = new(StringComparer.Ordinal);
        foreach (var rule in options.Replication)
        {
            var index = ServiceEndpoint.Parse(rule.Remote.BuildIndex);
            _remotes.TryAdd(index.AbsoluteUri, (new OriginCluster(http, rule.Remote.Origins.Select(ServiceEndpoint.Parse), rule.Remote.Replicas), new BuildIndexClient(http, index)));
        }
        _spool = Path.Combine(options.DataDir, "replication-spool");
        queue.Enqueued += () => _wake.Release();
    }

    /// <summary>The remote build-indexes (by base URL) that get the tags of <paramref name="repository"/> (with <paramref name="deletes"/>, those that also get their deletions).</summary>
    public IReadOnlyCollection<string> RemotesFor(string repository, bool deletes = false) =>
        _options.Replication.Where(r => r.Matches(repository) && (!deletes || r.Deletes)).Select(r => ServiceEndpoint.Parse(r.Remote.BuildIndex).AbsoluteUri).Distinct().ToArray();

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true); // copies cut short by a stop
        }
        Directory.CreateDirectory(_spool);
        while (!stoppingToken.IsCancellationRequested)
        {
            var due = await _queue.DueAsync(16, stoppingToken);
            foreach (var task in due)
            {
                await RunAsync(task, stoppingToken);
            }
            if (due.Count > 0)
            {
                continue;
            }
            var next = await _queue.NextDueAsync(stoppingToken);
            var wait = next is { } at ? at - _time.GetUtcNow() : Timeout.InfiniteTimeSpan;
            if (wait != Timeout.InfiniteTimeSpan && wait <= TimeSpan.Zero)
            {
                continue;
            }
            try
            {
                await _wake.WaitAsync(wait == Timeout.InfiniteTimeSpan ? wait : wait + TimeSpan.FromMilliseconds(10), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task RunAsync(ReplicationTask task, CancellationToken stoppingToken)
    {
        try
        {
            await ReplicateAsync(task, stoppingToken);
            await _queue.CompleteAsync(task, stoppingToken);
            _metrics.Replicated("ok");
            Log.Replicated(_logger, task.Repository, task.Tag, task.Digest, task.Remote, task.Delete ? "deleted" : "copied");
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            var backoff = TimeSpan.FromSeconds(Math.Min(_options.ReplicationRetryMax.TotalSeconds, Math.Pow(2, Math.Min(task.Attempts, 30))));
            await _queue.FailAsync(task, _time.GetUtcNow() + backoff, ex.Message, stoppingToken);
            _metrics.Replicated("failed");
            Log.Failed(_logger, task.Delete ? "delete" : "copy", task.Repository, task.Tag, task.Digest, task.Remote, task.Attempts + 1, backoff.TotalSeconds, ex.Message);
        }
    }

    private async Task ReplicateAsync(ReplicationTask task, CancellationToken cancellationToken)
    {
        if (!_remotes.TryGetValue(task.Remote, out var remote))
        {
            throw new InvalidOperationException($"no replication rule names {task.Remote} any more");
        }
        if (task.Delete)
        {
            // Gone there already is as good as deleted now.
            await remote.Index.DeleteTagAsync(task.Repository, task.Tag, replicate: false, cancellationToken);
            return;
        }
        var record = await _store.GetManifestAsync(task.Repository, task.Digest, cancellationToken)
            ?? throw new InvalidOperationException($"{task.Repository} has no manifest {task.Digest} here");
        await CopyManifestAsync(remote, task.Repository, task.Digest, record, 0, cancellationToken);
        await remote.Index.PutTagAsync(task.Repository, task.Tag, task.Digest, replicate: false, cancellationToken);
    }

    private async Task CopyManifestAsync((OriginCluster Origins, BuildIndexClient Index) remote, string repository, Digest digest, ManifestRecord record, int depth, CancellationToken cancellationToken)
    {
        if (await remote.Index.GetManifestAsync(repository, digest, cancellationToken) is not null)
        {
            return; // recorded there already, with everything it references
        }
        var bytes = await ReadManifestAsync(repository, digest, cancellationToken);
        if (!ManifestDocument.TryParse(bytes, record.MediaType, out var manifest, out var error))
        {
            throw new InvalidDataException($"manifest {digest} of {repository} does not parse: {error}");
        }
        foreach (var child in manifest!.Manifests)
        {
            if (depth + 1 >= MaxNesting)
            {
                throw new InvalidDataException($"manifest {digest} of {repository} nests indexes deeper than {MaxNesting}");
            }
            var childRecord = await _store.GetManifestAsync(repository, child.Digest, cancellationToken) ?? new ManifestRecord(child.MediaType, child.Size);
            await CopyManifestAsync(remote, repository, child.Digest, childRecord, depth + 1, cancellationToken);
        }
        foreach (var blob in manifest.Blobs)
        {
            await CopyBlobAsync(remote.Origins, repository, blob.Digest, cancellationToken);
            await remote.Index.PutBlobLinkAsync(repository, blob.Digest, cancellationToken);
        }
        if (await remote.Origins.StatAsync(digest, repository, cancellationToken) is null)
        {
            await remote.Origins.UploadAsync(digest, () => new MemoryStream(bytes, writable: false), bytes.Length, repository, cancellationToken);
        }
        await remote.Index.PutManifestAsync(repository, digest, record, cancellationToken);
    }

    private async Task<byte[]> ReadManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        await using var blob = await _local.OpenReadAsync(digest, repository, range: null, cancellationToken)
            ?? throw new InvalidOperationException($"no origin of this cluster has manifest {digest}");
        if (blob.TotalLength > ManifestDocument.MaxSize)
        {
            throw new InvalidDataException($"manifest {digest} is {blob.TotalLength} bytes, more than {ManifestDocument.MaxSize}");
        }
        var bytes = new byte[blob.TotalLength];
        await blob.Content.ReadExactlyAsync(bytes, cancellationToken);
        if (Digest.Compute(bytes) != digest)
        {
            throw new DigestMismatchException($"the origins sent manifest {digest} with other bytes");
        }
        return bytes;
    }

    /// <summary>Copies a blob to the remote owners unless one of them has it.</summary>
    private async Task CopyBlobAsync(OriginCluster remote, string repository, Digest digest, CancellationToken cancellationToken)
    {
        if (await remote.StatAsync(digest, repository, cancellationToken) is not null)
        {
            return;
        }
        var spooled = Path.Combine(_spool, Guid.NewGuid().ToString("N"));
        try
        {
            long length;
            await using (var blob = await _local.OpenReadAsync(digest, repository, range: null, cancellationToken)
                ?? throw new InvalidOperationException($"no origin of this cluster has blob {digest}"))
            await using (var file = new FileStream(spooled, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
                try
                {
                    int read;
                    while ((read = await blob.Content.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        hash.AppendData(buffer, 0, read);
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                length = file.Length;
                if (length != blob.TotalLength || Digest.FromSha256(hash.GetHashAndReset()) != digest)
                {
                    throw new DigestMismatchException($"the origins sent blob {digest} with other bytes");
                }
            }
            await remote.UploadAsync(digest, () => new FileStream(spooled, FileMode.Open, FileAccess.Read, FileShare.Read, 256 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan), length, repository, cancellationToken);
            _metrics.BlobCopied(length);
        }
        finally
        {
            File.Delete(spooled);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "Replicated {Repository}:{Tag} ({Digest}) to {Remote}: {Action}")]
        public static partial void Replicated(ILogger logger, string repository, string tag, Digest digest, string remote, string action);

        [LoggerMessage(21, LogLevel.Warning, "Replication ({Action}) of {Repository}:{Tag} ({Digest}) to {Remote} failed (attempt {Attempt}); next try in {Seconds} s: {Reason}")]
        public static partial void Failed(ILogger logger, string action, string repository, string tag, Digest digest, string remote, int attempt, double seconds, string reason);
    }
}
