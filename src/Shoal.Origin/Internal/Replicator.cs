using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Store;
using Shoal.Hosting;

namespace Shoal.Origin.Internal;

/// <summary>
/// Copies uploaded blobs to the other owners in the origin cluster, with <c>replicate=false</c> so
/// they do not copy it on. Best effort: a failed copy is logged and counted, never fails the upload
/// (a later issue persists and retries them).
/// </summary>
internal sealed class Replicator : IDisposable
{
    private readonly BlobStore _store;
    private readonly OriginMetrics _metrics;
    private readonly ILogger _logger;
    private readonly HttpClient? _http;
    private readonly OriginCluster? _cluster;
    private readonly string? _self;

    public Replicator(OriginOptions options, BlobStore store, OriginMetrics metrics, ILogger<Replicator> logger)
    {
        _store = store;
        _metrics = metrics;
        _logger = logger;
        var cluster = options.Cluster;
        if (cluster.Origins.Count > 0)
        {
            _http = HttpClients.Create(options.ClientTls);
            _cluster = new OriginCluster(_http, cluster.Origins.Select(ServiceEndpoint.Parse), cluster.Replicas);
            _self = cluster.Self is null ? null : ServiceEndpoint.Parse(cluster.Self).AbsoluteUri;
        }
    }

    /// <summary>Copies the blob to every owner but this origin; returns when all copies ended.</summary>
    public async Task ReplicateAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        if (_cluster is null)
        {
            return;
        }
        var targets = _cluster.Owners(digest).Where(o => o.BaseAddress.AbsoluteUri != _self);
        await Task.WhenAll(targets.Select(target => CopyAsync(target, digest, ns, cancellationToken)));
    }

    private async Task CopyAsync(OriginClient target, Digest digest, string? ns, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = _store.OpenRead(digest, touch: false) ?? throw new InvalidOperationException($"{digest} left the cache");
            await target.UploadAsync(digest, stream, stream.Length, ns, replicate: false, cancellationToken);
            _metrics.Replications.Add(1, new KeyValuePair<string, object?>("outcome", "ok"));
            Log.Replicated(_logger, digest, target.BaseAddress);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            _metrics.Replications.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            Log.ReplicationFailed(_logger, digest, target.BaseAddress, ex);
        }
    }

    public void Dispose() => _http?.Dispose();
}
