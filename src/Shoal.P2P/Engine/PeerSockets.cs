using System.Net.Sockets;

namespace Shoal.P2P.Engine;

/// <summary>Socket settings of every peer connection, dialled or accepted.</summary>
internal static class PeerSockets
{
    /// <summary>
    /// Unsent bytes the kernel keeps queued per connection before it reports the socket not writable
    /// (Linux <c>TCP_NOTSENT_LOWAT</c>). Without it a connection's send buffer grows to megabytes under
    /// load, and a control message written now leaves only after all of it: on a 100 Mbit/s link, 4 MiB
    /// is a third of a second of staleness for every Have and Request. Bytes already in flight are not
    /// limited, so throughput is unchanged.
    /// </summary>
    public const int NotSentLowWater = 128 * 1024;

    private const int IpProtoTcp = 6;
    private const int TcpNotSentLowat = 25;

    /// <summary>No Nagle delay (messages are written whole and flushed on purpose) and a small unsent queue where the OS supports it.</summary>
    public static void Configure(Socket socket)
    {
        socket.NoDelay = true;
        if (OperatingSystem.IsLinux())
        {
            try
            {
                socket.SetRawSocketOption(IpProtoTcp, TcpNotSentLowat, BitConverter.GetBytes(NotSentLowWater));
            }
            catch (SocketException)
            {
                // Older kernels: the default behaviour, only slower to react.
            }
        }
    }
}
