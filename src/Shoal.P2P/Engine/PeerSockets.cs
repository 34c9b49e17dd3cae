using System.Net.Sockets;
using System.Reflection;
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

    /// <summary>The most a connection being closed gracefully reads and drops while it waits for the peer to close.</summary>
    public const int MaxDrainBytes = 1024 * 1024;

    /// <summary>
    /// How long a connection we are done with (parting, or ending after our Error) waits for the peer
    /// to close its side too before it is cut off.
    /// </summary>
    public static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private const int IpProtoTcp = 6;
    private const int TcpNotSentLowat = 25;

    /// <summary>
    /// The runtime's per-socket switch for inline completions (<c>Socket.PreferInlineCompletions</c>,
    /// an experimental setter the runtime keeps reachable by reflection; the process-wide form is
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>). Null where the runtime has none.
    /// </summary>
    private static readonly PropertyInfo? PreferInlineCompletions =
        typeof(Socket).GetProperty("PreferInlineCompletions", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic) is { CanWrite: true, PropertyType: var type } property && type == typeof(bool)
            ? property
            : null;

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

    /// <summary>True when the runtime lets a socket run its completions on the event thread (see <see cref="Configure"/>).</summary>
    public static bool InlineCompletionsSupported => PreferInlineCompletions is not null;

    /// <summary>
    /// No Nagle delay (messages are written whole and flushed on purpose), a small unsent queue where
    /// the OS supports it, and inline completions where the runtime offers them: the continuation of a
    /// read or write of this socket runs on the runtime's socket event thread instead of being handed
    /// to the thread pool. A connection carries many small messages (Have, Request) between its
    /// blocks, and each hand-off woke a pool thread: with inline completions the agents of the swarm
    /// benchmark used about 8 % less CPU and finished 7 % sooner at 16 hosts, 5–20 % at 32 (side by
    /// side). Code that runs on a connection's tasks therefore must not wait on anything slow: small
    /// pieces are hashed and written to the page cache there (microseconds), large pieces and reads
    /// of a seed's blob (which may need the disk) first move to the thread pool
    /// (<see cref="LeaveEventThreadAsync"/>).
    /// </summary>
    public static void Configure(Socket socket)
    {
        socket.NoDelay = true;
        if (PreferInlineCompletions is { } inline)
        {
            try
            {
                inline.SetValue(socket, true);
            }
            catch (TargetInvocationException)
            {
                // Not supported on this socket or runtime: completions go through the thread pool.
            }
        }
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

    /// <summary>
    /// Ends a connection we turn away after its Error was written: our side is shut down (FIN), and
    /// what the peer still sends is read and dropped until it closes too, for at most
    /// <see cref="CloseGrace"/> and <see cref="MaxDrainBytes"/>; then the socket is closed. Closing at
    /// once would make the kernel answer the bytes still unread (the dialler's bitfield, sent right
    /// behind its handshake) with a reset, and the peer would see a broken connection instead of our
    /// Error, and pay for an exception. Never throws.
    /// </summary>
    public static async Task CloseGracefullyAsync(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
            if (OperatingSystem.IsLinux())
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveLowWater, 1);
            }
            using var deadline = new CancellationTokenSource(CloseGrace);
            var buffer = new byte[4096];
            var drained = 0L;
            while (drained < MaxDrainBytes)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    break;
                }
                drained += read;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer reset, or took too long: it is closed all the same.
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>
    /// Continues on the thread pool when called elsewhere, typically on the socket event thread
    /// where inline completions run a connection's code: slow work there (hashing a large piece, a
    /// read that needs the disk) would hold up the events of every other socket of the process. On
    /// a pool thread it completes at once.
    /// </summary>
    public static async ValueTask LeaveEventThreadAsync()
    {
        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            await Task.Yield();
        }
    }
}
