using System.Globalization;
using Shoal.Clients.Tracker;
using StackExchange.Redis;

namespace Shoal.Tracker.Internal;

/// <summary>
/// A peer store in Redis, shared by every tracker that points at it: an announce to one tracker is
/// seen by the others. Per swarm, two keys under one hash tag (so Redis Cluster keeps them in one
/// slot): a sorted set of peer ids scored by expiry (Unix milliseconds by the tracker's clock) and a
/// hash of each peer's address and flags. Each update or read is one Lua script, so expiry, the
/// per-swarm bound (the longest-silent peer makes room) and the write are atomic; both keys expire
/// with their last peer, so idle swarms leave nothing behind. Redis failures surface as
/// <see cref="PeerStoreUnavailableException"/> (the tracker then hands out the origins only).
/// </summary>
internal sealed class RedisPeerStore : IPeerStore
{
    // Removes members whose expiry score is at or before ARGV[1] from the set and the hash, in
    // chunks (unpack has a stack limit).
    private const string ExpireLua = """
        local function drop(ids)
          for i = 1, #ids, 500 do
            local chunk = {unpack(ids, i, math.min(i + 499, #ids))}
            redis.call('ZREM', KEYS[1], unpack(chunk))
            redis.call('HDEL', KEYS[2], unpack(chunk))
          end
        end
        drop(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]))
        """;

    // KEYS: peers (zset), info (hash). ARGV: now, expiresAt, id, fields, capacity, ttl ms.
    private const string UpdateLua = ExpireLua + """

        if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then
          local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[5]) + 1
          if excess > 0 then drop(redis.call('ZRANGE', KEYS[1], 0, excess - 1)) end
        end
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
        redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
        redis.call('PEXPIRE', KEYS[1], ARGV[6])
        redis.call('PEXPIRE', KEYS[2], ARGV[6])
        return 1
        """;

    // KEYS: peers, info. ARGV: now, limit. Returns id, fields, id, fields, ...
    private const string SampleLua = ExpireLua + """

        local ids
        if redis.call('ZCARD', KEYS[1]) <= tonumber(ARGV[2]) then
          ids = redis.call('ZRANGE', KEYS[1], 0, -1)
        else
          ids = redis.call('ZRANDMEMBER', KEYS[1], ARGV[2])
        end
        if #ids == 0 then return {} end
        local fields = redis.call('HMGET', KEYS[2], unpack(ids))
        local out = {}
        for i = 1, #ids do
          if fields[i] then
            out[#out + 1] = ids[i]
            out[#out + 1] = fields[i]
          end
        end
        return out
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly string _prefix;
    private readonly TimeProvider _time;
    private readonly long _ttlMs;
    private readonly int _maxPeersPerSwarm;

    public RedisPeerStore(IConnectionMultiplexer redis, string keyPrefix, TimeProvider time, TimeSpan ttl, int maxPeersPerSwarm)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPeersPerSwarm);
        _redis = redis;
        _prefix = keyPrefix;
        _time = time;
        _ttlMs = (long)Math.Ceiling(ttl.TotalMilliseconds);
        _maxPeersPerSwarm = maxPeersPerSwarm;
    }

    public async ValueTask UpdatePeerAsync(string infoHash, PeerInfo peer, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await RunAsync(infoHash, UpdateLua, [now, now + _ttlMs, peer.Id, Encode(peer), _maxPeersPerSwarm, _ttlMs]);
    }

    public async ValueTask<IReadOnlyList<PeerInfo>> GetPeersAsync(string infoHash, int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0)
        {
            return [];
        }
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var result = await RunAsync(infoHash, SampleLua, [now, limit]);
        var items = (RedisResult[])result!;
        var peers = new List<PeerInfo>(items.Length / 2);
        for (var i = 0; i + 1 < items.Length; i += 2)
        {
            if (Decode((string)items[i]!, (string)items[i + 1]!) is { } peer)
            {
                peers.Add(peer);
            }
        }
        return peers;
    }

    /// <summary>Answers whether Redis answers (the tracker's readiness).</summary>
    public async Task<string?> CheckAsync()
    {
        try
        {
            await _redis.GetDatabase().PingAsync();
            return null;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return "the peer store (Redis) does not answer: " + ex.Message;
        }
    }

    private async Task<RedisResult> RunAsync(string infoHash, string script, RedisValue[] args)
    {
        // {infoHash} is the hash tag: both keys of a swarm land in one cluster slot.
        RedisKey[] keys = [$"{_prefix}{{{infoHash}}}:peers", $"{_prefix}{{{infoHash}}}:info"];
        try
        {
            return await _redis.GetDatabase().ScriptEvaluateAsync(script, keys, args);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw new PeerStoreUnavailableException("the peer store (Redis) failed: " + ex.Message, ex);
        }
    }

    /// <summary>A peer's fields as stored: <c>ip port origin complete</c> (flags as 0/1).</summary>
    internal static string Encode(PeerInfo peer) =>
        string.Create(CultureInfo.InvariantCulture, $"{peer.Ip} {peer.Port} {(peer.Origin ? 1 : 0)} {(peer.Complete ? 1 : 0)}");

    /// <summary>The peer stored as <paramref name="fields"/>, or null when they do not parse (another version's format).</summary>
    internal static PeerInfo? Decode(string id, string fields)
    {
        var parts = fields.Split(' ');
        return parts.Length == 4 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? new PeerInfo(id, parts[0], port, parts[2] == "1", parts[3] == "1")
            : null;
    }
}

/// <summary>The shared peer store could not be reached or failed; announces are answered with the origins only.</summary>
public sealed class PeerStoreUnavailableException : Exception
{
    public PeerStoreUnavailableException()
    {
    }

    public PeerStoreUnavailableException(string message)
        : base(message)
    {
    }

    public PeerStoreUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
