using System.Net.Sockets;
using Shoal.P2P.Protocol;

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

    /// <summary>
    /// The most a reader asks the kernel to gather before waking it (Linux <c>SO_RCVLOWAT</c>): a
    /// quarter of a block, so a 256 KiB block wakes its reader a few times instead of once per packet
    /// or two, while the receive window (the kernel keeps at least twice this) stays out of the way.
    /// </summary>
    public const int MaxReceiveLowWater = 64 * 1024;

    private const int IpProtoTcp = 6;
    private const int TcpNotSentLowat = 25;

    /// <summary>
    /// Lets <paramref name="connection"/> tell the kernel how many bytes its next message still needs
    /// (<see cref="PeerConnection.Awaiting"/>), so the reader of a block sleeps until a good part of it
    /// arrived. Changes the option only when the wanted value changes. Linux only.
    /// </summary>
    public static void WakeOnWholeMessages(Socket socket, PeerConnection connection)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var current = 1;
        connection.Awaiting = missing =>
        {
            var wanted = (int)Math.Clamp(missing, 1, MaxReceiveLowWater);
            if (wanted == current)
            {
                return;
            }
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveLowWater, wanted);
                current = wanted;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                connection.Awaiting = null; // closed, or not supported: wake on every arrival
            }
        };
    }

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
