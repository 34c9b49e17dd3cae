using System.Net;
using System.Net.Sockets;

namespace Shoal.TestKit;

/// <summary>Free TCP ports for servers that cannot be told to listen on port 0.</summary>
public static class FreePort
{
    /// <summary>
    /// A port that was free a moment ago on <paramref name="address"/> (default 127.0.0.1). Another
    /// process may take it before the caller binds it; prefer port 0 wherever the server allows it.
    /// </summary>
    public static int Next(IPAddress? address = null)
    {
        using var listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>True when something accepts TCP connections on <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static async Task<bool> IsOpenAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(host, port, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
