using System.Collections.Concurrent;
using Shoal.Clients;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Hosting;

namespace Shoal.Origin.Internal;

/// <summary>
/// The origins of the cluster as this origin sees them: the member list (static or refreshed from
/// DNS by <see cref="ClusterMonitor"/>), their health from active checks, and the rendezvous order
/// that makes owners of a digest.
/// </summary>
internal sealed class ClusterMembership : IDisposable
{
    /// <summary>A request carrying this header is a peer origin's fill: answered from the local cache only.</summary>
    public const string PeerFetchHeader = "X-Shoal-Peer-Fetch";

    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly int _failureThreshold;
    private volatile string[] _members;

    public ClusterMembership(OriginOptions options)
    {
        var cluster = options.Cluster;
        Replicas = cluster.Replicas;
        _failureThreshold = cluster.HealthCheck.FailureThreshold;
        _members = cluster.Origins.Select(o => ServiceEndpoint.Parse(o).AbsoluteUri).Distinct(StringComparer.Ordinal).ToArray();
        Self = cluster.Self is null ? null : ServiceEndpoint.Parse(cluster.Self).AbsoluteUri;
        Http = HttpClients.Create(options.ClientTls);
    }

    /// <summary>The client used to call the other origins.</summary>
    public HttpClient Http { get; }

    /// <summary>This origin's own base URL, when configured.</summary>
    public string? Self { get; }

    /// <summary>How many origins own each blob.</summary>
    public int Replicas { get; }

    /// <summary>Every origin's base URL (absolute, with trailing slash), this one included.</summary>
    public IReadOnlyList<string> Members => _members;

    /// <summary>True when this origin has peers.</summary>
    public bool IsClustered => _members.Any(m => m != Self);

    /// <summary>Replaces the member list (DNS refresh).</summary>
    public void SetMembers(IEnumerable<string> members)
    {
        _members = members.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        foreach (var gone in _failures.Keys.Except(_members))
        {
            _failures.TryRemove(gone, out _);
        }
    }

    /// <summary>Self always counts as healthy; others once they failed fewer checks in a row than the threshold.</summary>
    public bool IsHealthy(string member) => member == Self || _failures.GetValueOrDefault(member) < _failureThreshold;

    /// <summary>Records the outcome of a health check.</summary>
    public void Report(string member, bool healthy)
    {
        if (healthy)
        {
            _failures[member] = 0;
        }
        else
        {
            _failures.AddOrUpdate(member, 1, static (_, n) => n + 1);
        }
    }

    /// <summary>Every member in rendezvous order for <paramref name="digest"/>.</summary>
    public IReadOnlyList<string> Order(Digest digest) => RendezvousHash.Order(_members, digest.Hex);

    /// <summary>
    /// The origins that should receive a copy of an upload this origin committed: the nominal owners
    /// but this one (down ones too: their copy waits in the queue until they return), plus, for each
    /// unhealthy owner, the next healthy origin in rendezvous order, so enough live copies exist now.
    /// </summary>
    public IReadOnlyList<string> ReplicaTargets(Digest digest)
    {
        var order = Order(digest);
        var replicas = Math.Min(Replicas, order.Count);
        var owners = order.Take(replicas).ToList();
        var targets = owners.Where(o => o != Self).ToList();
        var missing = owners.Count(o => !IsHealthy(o)) - (Self is not null && !owners.Contains(Self) ? 1 : 0);
        foreach (var candidate in order.Skip(replicas))
        {
            if (missing <= 0)
            {
                break;
            }
            if (candidate != Self && IsHealthy(candidate))
            {
                targets.Add(candidate);
                missing--;
            }
        }
        return targets;
    }

    /// <summary>The healthy peers to ask for a blob this origin lacks, in rendezvous order, at most <see cref="Replicas"/>.</summary>
    public IReadOnlyList<string> PeersToAsk(Digest digest)
        => Order(digest).Where(m => m != Self && IsHealthy(m)).Take(Replicas).ToArray();

    /// <summary>A client of one member.</summary>
    public OriginClient Client(string member) => new(Http, new Uri(member));

    public void Dispose() => Http.Dispose();
}
