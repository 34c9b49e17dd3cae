using System.Net.Sockets;
using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.Clients.Origin;

/// <summary>
/// The origin cluster as its callers see it: each blob is owned by the <see cref="Replicas"/>
/// highest-scoring origins under rendezvous hashing of its digest; reads try the owners in order
/// and fail over to the next when one is unreachable.
/// </summary>
public sealed class OriginCluster
{
    private readonly Dictionary<string, OriginClient> _clients;
    private readonly TimeSpan? _answerTimeout;

    /// <param name="http">The HTTP client every origin is called through.</param>
    /// <param name="origins">Every origin of the cluster.</param>
    /// <param name="replicas">How many origins own each blob.</param>
    /// <param name="answerTimeout">
    /// How long a read (<see cref="StatAsync"/>, <see cref="OpenReadAsync"/>) waits for one origin to
    /// start answering before it tries the next (an origin that accepts connections and then hangs
    /// would otherwise hold the call); the body of a blob that started arriving is not bounded by
    /// it. Default none.
    /// </param>
    public OriginCluster(HttpClient http, IEnumerable<Uri> origins, int replicas = 2, TimeSpan? answerTimeout = null)
    {
        _answerTimeout = answerTimeout;
        _clients = origins.Distinct().ToDictionary(u => u.AbsoluteUri, u => new OriginClient(http, u), StringComparer.Ordinal);
        if (_clients.Count == 0)
        {
            throw new ArgumentException("at least one origin is required", nameof(origins));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(replicas);
        Replicas = Math.Min(replicas, _clients.Count);
    }

    /// <summary>How many origins own each blob.</summary>
    public int Replicas { get; }

    /// <summary>Every origin of the cluster.</summary>
    public IReadOnlyCollection<OriginClient> All => _clients.Values;

    /// <summary>All origins, owners of <paramref name="digest"/> first.</summary>
    public IReadOnlyList<OriginClient> ByPreference(Digest digest)
        => RendezvousHash.Order(_clients.Keys, digest.Hex).Select(k => _clients[k]).ToArray();

    /// <summary>The owners of <paramref name="digest"/>.</summary>
    public IReadOnlyList<OriginClient> Owners(Digest digest) => ByPreference(digest).Take(Replicas).ToArray();

    /// <summary>Stats the blob on its owners, failing over past unreachable ones.</summary>
    public Task<long?> StatAsync(Digest digest, string? ns, CancellationToken cancellationToken)
        => FirstAsync(digest, (c, ct) => c.StatAsync(digest, ns, ct), cancellationToken, _answerTimeout);

    /// <summary>Opens the blob on its owners, failing over past unreachable ones; null when none has it.</summary>
    public Task<OriginBlob?> OpenReadAsync(Digest digest, string? ns, ByteRange? range, CancellationToken cancellationToken)
        => FirstAsync(digest, (c, ct) => c.OpenReadAsync(digest, ns, range, ct), cancellationToken, _answerTimeout);

    /// <summary>
    /// The blob's metainfo from its owners, failing over past unreachable ones: the metainfo, not
    /// found, or pending (the owner that answered is fetching the blob from its backend).
    /// </summary>
    public async Task<MetaInfoLookup> LookupMetaInfoAsync(Digest digest, string? ns, CancellationToken cancellationToken)
        => await FirstAsync<MetaInfoLookup?>(digest, async (c, ct) =>
        {
            var answer = await c.LookupMetaInfoAsync(digest, ns, ct);
            return answer.Info is null && !answer.Pending ? null : answer; // "not found" lets the next owner be asked
        }, cancellationToken) ?? MetaInfoLookup.NotFound;

    /// <summary>
    /// Uploads a blob to its first reachable owner, which acknowledges only after verifying and
    /// storing it (and copies it to the other replicas). <paramref name="openContent"/> is called
    /// once per attempt, so a fail-over re-sends the bytes from the start.
    /// </summary>
    public async Task UploadAsync(Digest digest, Func<Stream> openContent, long length, string? ns, CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (var origin in Owners(digest))
        {
            try
            {
                await using var content = openContent();
                await origin.UploadAsync(digest, content, length, ns, replicate: true, cancellationToken);
                return;
            }
            catch (Exception ex) when (IsUnreachable(ex, cancellationToken))
            {
                last = ex;
            }
        }
        // An owner that answered (e.g. 503: its backend refused a write-through) says why; keep that reason.
        throw new ServiceException(last is ServiceException { Detail.Length: > 0 } answered
            ? $"no owner of {digest} stored it; the last said: {answered.Message}"
            : $"no owner of {digest} is reachable", last!);
    }

    /// <summary>
    /// A cross-repository mount at the blob's first reachable owner (see
    /// <see cref="OriginClient.MountAsync"/>): false when no owner finds the blob.
    /// </summary>
    public async Task<bool> MountAsync(Digest digest, string ns, string? from, CancellationToken cancellationToken)
        => await FirstAsync<object>(digest, async (origin, token) => await origin.MountAsync(digest, ns, from, token) ? true : null, cancellationToken) is not null;

    private Task<T?> FirstAsync<T>(Digest digest, Func<OriginClient, CancellationToken, Task<T?>> call, CancellationToken cancellationToken, TimeSpan? answerTimeout = null)
        => FirstAsync(digest, call, ex => IsUnreachable(ex, cancellationToken), failed: null, cancellationToken, answerTimeout);

    /// <summary>
    /// The one fail-over loop of every origin read: calls <paramref name="call"/> on the origins in
    /// rendezvous order (owners of <paramref name="digest"/> first) until one answers with a value.
    /// Owners are authoritative: once one said "none" (null), non-owners are not asked; a non-owner is
    /// asked only when no owner could answer. A failure <paramref name="retryable"/> accepts moves on
    /// to the next origin (and is reported to <paramref name="failed"/>); any other propagates. With
    /// <paramref name="answerTimeout"/>, an origin that has not answered in that time counts as
    /// failed (a <see cref="TimeoutException"/>). Returns default when an origin answered "none";
    /// throws a <see cref="ServiceException"/> ("no origin is reachable", the last failure inside) when none answered.
    /// </summary>
    public async Task<T?> FirstAsync<T>(Digest digest, Func<OriginClient, CancellationToken, Task<T?>> call, Func<Exception, bool> retryable,
        Action<OriginClient, Exception>? failed, CancellationToken cancellationToken, TimeSpan? answerTimeout = null)
    {
        Exception? last = null;
        var answered = false;
        var preference = ByPreference(digest);
        for (var i = 0; i < preference.Count; i++)
        {
            if (i >= Replicas && answered)
            {
                break;
            }
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (answerTimeout is { } timeout)
            {
                attempt.CancelAfter(timeout);
            }
            try
            {
                var result = await call(preference[i], attempt.Token);
                if (result is not null)
                {
                    return result;
                }
                answered = true;
            }
            catch (OperationCanceledException ex) when (answerTimeout is not null && attempt.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                last = new TimeoutException($"origin {preference[i].BaseAddress} did not answer within {answerTimeout?.TotalSeconds:0.#} s", ex);
                failed?.Invoke(preference[i], last);
            }
            catch (Exception ex) when (retryable(ex))
            {
                last = ex;
                failed?.Invoke(preference[i], ex);
            }
        }
        if (!answered && last is not null)
        {
            throw new ServiceException("no origin is reachable", last);
        }
        return default;
    }

    /// <summary>True for failures that mean "try another origin" (connection refused, reset, 5xx).</summary>
    public static bool IsUnreachable(Exception ex, CancellationToken cancellationToken)
        => !cancellationToken.IsCancellationRequested && ex switch
        {
            HttpRequestException => true,
            SocketException => true,
            IOException => true,
            TaskCanceledException => true, // connect timeout
            ServiceException s => (int)s.StatusCode >= 500,
            _ => false,
        };
}
