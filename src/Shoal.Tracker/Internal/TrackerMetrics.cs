using System.Diagnostics.Metrics;

namespace Shoal.Tracker.Internal;

/// <summary>The tracker's counters, on the meter <c>Shoal.Tracker</c> (reported at <c>/metrics</c>).</summary>
internal sealed class TrackerMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Shoal.Tracker";

    private readonly Counter<long> _announces;
    private readonly Counter<long> _peersHandedOut;
    private readonly Counter<long> _metaInfoRequests;

    public TrackerMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _announces = Meter.CreateCounter<long>("shoal.tracker.announces", "{announce}", "Announces, by outcome: ok, degraded (the peer store failed; only origins handed out), invalid.");
        _peersHandedOut = Meter.CreateCounter<long>("shoal.tracker.peers_handed_out", "{peer}", "Peers handed out in announce answers (origins included).");
        _metaInfoRequests = Meter.CreateCounter<long>("shoal.tracker.metainfo.requests", "{request}", "Metainfo requests, by outcome: cached, fetched (from the origins), pending (an origin is fetching the blob from its backend: 202), not_found, failed, invalid.");
    }

    /// <summary>The meter itself (gauges are added by the components that own the values).</summary>
    public Meter Meter { get; }

    public void Announced(string outcome, int peers)
    {
        _announces.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (peers > 0)
        {
            _peersHandedOut.Add(peers);
        }
    }

    public void MetaInfo(string outcome) => _metaInfoRequests.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
