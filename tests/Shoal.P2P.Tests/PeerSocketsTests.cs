using System.Net;
using System.Net.Sockets;
using Shoal.P2P.Engine;

namespace Shoal.P2P.Tests;

/// <summary>
/// Where a peer connection's code runs: reads and writes of a configured socket complete on the
/// runtime's socket event thread (no thread-pool hand-off per message), and the code that hashes or
/// touches the disk moves to the thread pool first.
/// </summary>
public sealed class PeerSocketsTests
{
    [Fact]
    public void InlineCompletions_AreOfferedByTheRuntimeShoalTargets()
    {
        // If a runtime drops the switch, connections silently fall back to the thread pool (slower,
        // still correct); this test says so instead.
        Assert.True(PeerSockets.InlineCompletionsSupported);
    }

    [Fact]
    public async Task Configure_ReadCompletesOnTheEventThread()
    {
        Assert.False(await ReceiveCompletesOnPoolAsync(configure: true));
    }

    [Fact]
    public async Task Unconfigured_ReadCompletesOnThePool()
    {
        // The counterpart that shows the test above can tell the two apart.
        Assert.True(await ReceiveCompletesOnPoolAsync(configure: false));
    }

    [Fact]
    public async Task LeaveEventThread_FromAnotherThread_ContinuesOnThePool()
    {
        bool? onPool = null;
        var thread = new Thread(() =>
        {
            async Task RunAsync()
            {
                await PeerSockets.LeaveEventThreadAsync();
                onPool = Thread.CurrentThread.IsThreadPoolThread;
            }

            RunAsync().GetAwaiter().GetResult();
        });
        thread.Start();
        Assert.True(await Task.Run(() => thread.Join(TimeSpan.FromSeconds(10))));
        Assert.True(onPool);
    }

    [Fact]
    public async Task LeaveEventThread_OnThePool_CompletesAtOnce()
    {
        var completed = await Task.Run(() =>
        {
            var leave = PeerSockets.LeaveEventThreadAsync().AsTask();
            return leave.IsCompletedSuccessfully;
        });
        Assert.True(completed);
    }

    private static async Task<bool> ReceiveCompletesOnPoolAsync(bool configure)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (configure)
        {
            PeerSockets.Configure(client);
        }
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var server = await listener.AcceptAsync();

        var receive = ReceiveAsync(client);
        Assert.False(receive.IsCompleted); // nothing sent yet: the read waits for the event thread
        await server.SendAsync(new byte[] { 42 }, SocketFlags.None);
        return await receive.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static async Task<bool> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[1];
        // No synchronization context: the continuation runs wherever the socket completes the read
        // (the test runner's context would otherwise move it to one of the runner's own threads).
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
        Assert.Equal(1, read);
        return Thread.CurrentThread.IsThreadPoolThread;
    }
}
