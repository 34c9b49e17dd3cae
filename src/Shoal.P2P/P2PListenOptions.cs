using System.ComponentModel.DataAnnotations;

namespace Shoal.P2P;

/// <summary>Where a peer listens for connections of other peers.</summary>
public sealed class P2PListenOptions
{
    /// <summary>IP address to bind (IPv4 or IPv6; <c>0.0.0.0</c> or <c>::</c> for all). Default <c>127.0.0.1</c>.</summary>
    [Required]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 (the default) picks a free one, which the peer advertises to the tracker. Dev mode uses 15005 for the origin and 16001 + 10·i for agent i.</summary>
    [Range(0, 65535)]
    public int Port { get; set; }
}
