using System.ComponentModel.DataAnnotations;

namespace Shoal.P2P;

/// <summary>Where a peer listens for connections of other peers.</summary>
public sealed class P2PListenOptions
{
    /// <summary>IP address to bind (IPv4 or IPv6; <c>0.0.0.0</c> or <c>::</c> for all). Default <c>127.0.0.1</c>.</summary>
    [Required]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests). Default depends on the component (agent 16001, origin 15005).</summary>
    [Range(0, 65535)]
    public int Port { get; set; }
}
