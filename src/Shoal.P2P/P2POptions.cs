using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Shoal.P2P;

/// <summary>
/// The peer-to-peer side of an agent or an origin: its listener, connection budgets, upload slots,
/// bandwidth limits and timers. Bound from the <c>p2p</c> subsection of the component's section.
/// </summary>
public sealed class P2POptions : IValidatableObject
{
    /// <summary>Where the peer listens. Default <c>127.0.0.1</c> and the component's default port.</summary>
    [Required]
    public P2PListenOptions Listen { get; set; } = new();

    /// <summary>
    /// The address other peers dial (an IP address or a host name), announced to the tracker. Default
    /// none: the listen address, or, when that is unspecified (<c>0.0.0.0</c>, <c>::</c>), the
    /// address the tracker sees the announce come from.
    /// </summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>
    /// The most agent connections one blob's swarm keeps (origins not counted, so a swarm can always
    /// reach one). At most half of them (rounded up) are dialled by this agent; the rest are left for
    /// peers that dial it. A full swarm still makes room for a downloading peer with fewer than two connections,
    /// and two peers that both have the whole blob part. 1–1,000; default 10.
    /// </summary>
    [Range(1, 1000)]
    public int MaxConnectionsPerBlob { get; set; } = 10;

    /// <summary>The most peer connections of this process over all blobs. 1–100,000; default 200.</summary>
    [Range(1, 100_000)]
    public int MaxConnections { get; set; } = 200;

    /// <summary>How many connections may be uploading at the same time (the others wait their turn). 1–10,000; default 16.</summary>
    [Range(1, 10_000)]
    public int UploadSlots { get; set; } = 16;

    /// <summary>Download limit over all connections, in bytes per second; 0 = unlimited (default).</summary>
    [Range(0, long.MaxValue)]
    public long IngressLimit { get; set; }

    /// <summary>Upload limit over all connections, in bytes per second; 0 = unlimited (default).</summary>
    [Range(0, long.MaxValue)]
    public long EgressLimit { get; set; }

    /// <summary>
    /// How long a requested piece may stay unanswered before it is requested from another peer.
    /// Default none: derived from the piece length (at least 4 s, 1 s per MiB).
    /// </summary>
    public TimeSpan? PieceRequestTimeout { get; set; }

    /// <summary>How long a swarm with no connected peer and no reader stays open after its download completed (seeding). Default 5 minutes.</summary>
    public TimeSpan IdleSwarmTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a connection may take to exchange handshakes. Default 10 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Mutual TLS between peers (default off: plaintext TCP).</summary>
    [Required]
    public P2PTlsOptions Tls { get; set; } = new();

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IPAddress.TryParse(Listen?.Address, out _))
        {
            yield return new ValidationResult($"'{Listen?.Address}' is not an IP address", [nameof(Listen)]);
        }
        if (AdvertiseAddress is { } advertise
            && !IPAddress.TryParse(advertise, out _)
            && Uri.CheckHostName(advertise) != UriHostNameType.Dns)
        {
            yield return new ValidationResult($"'{advertise}' is neither an IP address nor a host name", [nameof(AdvertiseAddress)]);
        }
        if (MaxConnectionsPerBlob > MaxConnections)
        {
            yield return new ValidationResult($"must not exceed maxConnections ({MaxConnections})", [nameof(MaxConnectionsPerBlob)]);
        }
        if (PieceRequestTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("must be positive", [nameof(PieceRequestTimeout)]);
        }
        if (IdleSwarmTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("must be positive", [nameof(IdleSwarmTimeout)]);
        }
        if (HandshakeTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("must be positive", [nameof(HandshakeTimeout)]);
        }
        if (Tls is { Mode: not P2PTlsMode.Off } tls)
        {
            foreach (var (name, path) in new[] { ("certificate", tls.Certificate), ("key", tls.Key), ("caCertificate", tls.CaCertificate) })
            {
                if (string.IsNullOrWhiteSpace(path))
                {
                    yield return new ValidationResult($"{name} is required when mode is {tls.Mode.ToString().ToLowerInvariant()}", [nameof(Tls)]);
                }
                else if (!File.Exists(path))
                {
                    yield return new ValidationResult($"{name}: {path} does not exist", [nameof(Tls)]);
                }
            }
        }
    }
}
