using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Shoal.Clients.Tracker;

namespace Shoal.Tracker.Internal;

/// <summary>Parses the configured peer-to-peer addresses of origins into the peers handed out with every announce.</summary>
internal static class OriginPeer
{
    /// <summary>
    /// Parses <c>host:port</c> or <c>[v6]:port</c>; the host is an IP address or a DNS name. The
    /// peer's id is derived from the address (20 bytes of SHA-256, hex) so every tracker hands out
    /// the same id for the same origin. Origins serve any blob (fetching it from storage when they
    /// must), so they are handed out as complete.
    /// </summary>
    public static bool TryParse(string? value, [NotNullWhen(true)] out PeerInfo? peer, [NotNullWhen(false)] out string? error)
    {
        peer = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "an origin peer address is empty";
            return false;
        }
        string host;
        string port;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"'{value}' is not [v6-address]:port";
                return false;
            }
            host = value[1..close];
            port = value[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                error = $"'{host}' in '{value}' is not an IPv6 address";
                return false;
            }
        }
        else
        {
            var colon = value.LastIndexOf(':');
            if (colon <= 0 || value.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"'{value}' is not host:port (write IPv6 addresses as [address]:port)";
                return false;
            }
            host = value[..colon];
            port = value[(colon + 1)..];
            if (!IPAddress.TryParse(host, out _) && Uri.CheckHostName(host) != UriHostNameType.Dns)
            {
                error = $"'{host}' in '{value}' is neither an IP address nor a host name";
                return false;
            }
        }
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            error = $"the port of '{value}' must be 1-65535";
            return false;
        }
        var canonical = IPAddress.TryParse(host, out var address) ? address.ToString() : host.ToLowerInvariant();
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"shoal-origin {canonical}:{number}")).AsSpan(0, 20));
        peer = new PeerInfo(id, canonical, number, Origin: true, Complete: true);
        error = null;
        return true;
    }
}
