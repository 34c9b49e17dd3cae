using System.Net;
using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.Clients;

/// <summary>
/// The answer to a metainfo request (origin <c>GET /v1/blobs/{digest}/metainfo</c>, tracker
/// <c>GET /v1/metainfo/{digest}</c>): the metainfo (200), not found (404: both null), or pending
/// (202 Accepted: an origin is fetching the blob from its backend and hashing it; ask again after
/// <see cref="RetryAfter"/>). A cold blob of several gigabytes can take minutes to fetch, far
/// longer than any request should be held open, so its callers poll, as Kraken's do.
/// </summary>
public readonly record struct MetaInfoLookup(MetaInfo? Info, TimeSpan? RetryAfter)
{
    /// <summary>The fallback poll interval when a 202 carries no usable <c>Retry-After</c>.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>No such blob.</summary>
    public static readonly MetaInfoLookup NotFound = new(null, null);

    /// <summary>True when the blob is being fetched: ask again after <see cref="RetryAfter"/>.</summary>
    public bool Pending => RetryAfter is not null;

    /// <summary>Pending, with the poll interval a <c>Retry-After</c> header gives (seconds), clamped to 0.1–10 s.</summary>
    private static MetaInfoLookup PendingFrom(HttpResponseMessage response)
    {
        var delay = response.Headers.RetryAfter?.Delta ?? DefaultRetryAfter;
        return new MetaInfoLookup(null, TimeSpan.FromTicks(Math.Clamp(delay.Ticks, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(10).Ticks)));
    }

    /// <summary>
    /// Reads a metainfo answer of <paramref name="service"/>: 404 not found, 202 pending, 200 the
    /// metainfo (which must be that of <paramref name="digest"/>), anything else a <see cref="ServiceException"/>.
    /// </summary>
    public static async Task<MetaInfoLookup> ReadAsync(string service, HttpResponseMessage response, Digest digest, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return NotFound;
        }
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            return PendingFrom(response);
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ServiceException.FromResponseAsync(service, response, cancellationToken);
        }
        var info = MetaInfo.FromJson(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return info.Digest == digest
            ? new MetaInfoLookup(info, null)
            : throw new ServiceException(service, response.StatusCode, $"metainfo is for {info.Digest}, asked for {digest}");
    }

    /// <summary>
    /// Asks with <paramref name="lookup"/> until the answer is not pending (waiting each answer's
    /// <see cref="RetryAfter"/> in between), or until <paramref name="cancellationToken"/> ends it.
    /// With <paramref name="limit"/>, an answer still pending that long after the first question is
    /// a <see cref="TimeoutException"/> (the last wait is shortened to end at the limit, and asked once more).
    /// </summary>
    public static async Task<MetaInfo?> PollAsync(Digest digest, Func<CancellationToken, Task<MetaInfoLookup>> lookup, TimeProvider time, CancellationToken cancellationToken, TimeSpan? limit = null)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var answer = await lookup(cancellationToken);
            if (!answer.Pending)
            {
                return answer.Info;
            }
            var delay = answer.RetryAfter!.Value;
            if (limit is { } bound)
            {
                var waited = time.GetElapsedTime(started);
                if (waited >= bound)
                {
                    throw new TimeoutException($"the origins were still fetching {digest} from their backend after {waited.TotalSeconds:0} s");
                }
                delay = delay < bound - waited ? delay : bound - waited;
            }
            await Task.Delay(delay, time, cancellationToken);
        }
    }
}
