using System.Net;
using Shoal.Clients.Tracker;
using Shoal.Core.Blobs;

namespace Shoal.P2P.Engine;

/// <summary>Announces to a Shoal tracker over HTTP (<see cref="TrackerClient"/>).</summary>
public sealed class TrackerAnnouncer : IAnnouncer
{
    private readonly TrackerClient _tracker;
    private readonly string _advertise;

    /// <summary>Announces through <paramref name="tracker"/>, advertising <paramref name="advertiseAddress"/> (null or unspecified: the address the tracker sees).</summary>
    public TrackerAnnouncer(TrackerClient tracker, string? advertiseAddress)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        _tracker = tracker;
        _advertise = string.IsNullOrEmpty(advertiseAddress) ? IPAddress.Any.ToString() : advertiseAddress;
    }

    /// <inheritdoc />
    public async Task<AnnounceResult> AnnounceAsync(MetaInfo info, string? @namespace, PeerId self, int port, bool complete, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        var peer = new PeerInfo(self.ToString(), _advertise, port, Origin: false, Complete: complete);
        var answer = await _tracker.AnnounceAsync(info.InfoHash, info.Digest, @namespace, peer, cancellationToken);
        var peers = new List<PeerAddress>(answer.Peers.Count);
        foreach (var p in answer.Peers)
        {
            if (p.Port is > 0 and <= 65535 && !string.IsNullOrEmpty(p.Ip))
            {
                peers.Add(new PeerAddress(p.Ip, p.Port, p.Origin, PeerId.TryParse(p.Id, out var id) ? id : null));
            }
        }
        var interval = double.IsFinite(answer.IntervalSeconds) && answer.IntervalSeconds > 0
            ? TimeSpan.FromSeconds(Math.Clamp(answer.IntervalSeconds, 0.5, 600))
            : TimeSpan.FromSeconds(3);
        return new AnnounceResult(peers, interval);
    }
}
