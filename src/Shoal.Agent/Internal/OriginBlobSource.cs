using System.Buffers;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.Core.Store;

namespace Shoal.Agent.Internal;

/// <summary>
/// Fetches blobs from the origin cluster over HTTP. The blob's owners (rendezvous hashing) are
/// asked first; the next origin is tried when one is unreachable, too slow, or sends bytes that do
/// not hash to the digest. Other origins are asked only when no owner could answer.
/// </summary>
internal sealed partial class OriginBlobSource : IBlobSource
{
    private readonly OriginCluster _cluster;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger<OriginBlobSource> _logger;

    public OriginBlobSource(OriginCluster cluster, AgentOptions options, TimeProvider time, ILogger<OriginBlobSource> logger)
    {
        _cluster = cluster;
        _timeout = options.UpstreamTimeout;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    public Task<long?> StatAsync(BlobRequest request, CancellationToken cancellationToken)
        => FirstAsync(request, "stat", (origin, ct) => Upstream.CallAsync(t => origin.StatAsync(request.Digest, request.Repository, t), _timeout, _time, ct), cancellationToken);

    /// <inheritdoc />
    public Task<BlobCommitResult?> DownloadAsync(BlobRequest request, BlobStore store, CancellationToken cancellationToken)
        => FirstAsync(request, "download", (origin, ct) => DownloadFromAsync(origin, request, store, ct), cancellationToken);

    private async Task<BlobCommitResult?> DownloadFromAsync(OriginClient origin, BlobRequest request, BlobStore store, CancellationToken cancellationToken)
    {
        // The deadline is pushed back whenever bytes arrive: a large blob may take long, a stalled one may not.
        using var idle = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        try
        {
            await using var blob = await origin.OpenReadAsync(request.Digest, request.Repository, range: null, linked.Token);
            if (blob is null)
            {
                return null;
            }
            await using var writer = store.CreateWriter(blob.TotalLength);
            var buffer = ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
            try
            {
                int read;
                while ((read = await blob.Content.ReadAsync(buffer.AsMemory(0, StreamBuffers.CopyBufferSize), linked.Token)) > 0)
                {
                    idle.CancelAfter(_timeout);
                    await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            // Verifies length and digest; on a mismatch nothing becomes visible and the temp file goes.
            return await writer.CommitAsync(request.Digest, cancellationToken);
        }
        catch (OperationCanceledException ex) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"origin {origin.BaseAddress} sent nothing for {_timeout.TotalSeconds:0.#} s", ex);
        }
    }

    /// <summary>
    /// The cluster's fail-over loop (<see cref="OriginCluster.FirstAsync{T}"/>) with the agent's view
    /// of failure (<see cref="Upstream.IsFailure"/>, corrupt content included), each one logged. Corrupt
    /// content outranks every other outcome but a found blob: it says some origin claims to have the
    /// blob and cannot serve it, which must not read as "not found".
    /// </summary>
    private async Task<T?> FirstAsync<T>(BlobRequest request, string operation, Func<OriginClient, CancellationToken, Task<T?>> call, CancellationToken cancellationToken)
    {
        Exception? corrupt = null;
        T? result;
        try
        {
            result = await _cluster.FirstAsync(request.Digest, call, ex => Upstream.IsFailure(ex, cancellationToken), (origin, ex) =>
            {
                Log.OriginFailed(_logger, operation, request.Digest, origin.BaseAddress, ex.Message);
                if (ex is DigestMismatchException or InvalidDataException)
                {
                    corrupt ??= ex;
                }
            }, cancellationToken);
        }
        catch (ServiceException ex) when (ex.InnerException is { } last)
        {
            if (corrupt is not null)
            {
                ExceptionDispatchInfo.Throw(corrupt);
            }
            throw new ServiceException($"no origin could {operation} {request.Digest}: {last.Message}", last);
        }
        if (result is null && corrupt is not null)
        {
            ExceptionDispatchInfo.Throw(corrupt);
        }
        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Origin {Origin} failed to {Operation} {Digest}: {Reason}")]
        public static partial void OriginFailed(ILogger logger, string operation, Digest digest, Uri origin, string reason);
    }
}
