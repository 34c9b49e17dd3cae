using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shoal.Proxy.Tests;

public sealed class DisconnectTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ProxyCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Patch_ClientDisconnectsMidChunk_SessionKeepsItsPreviousSize()
    {
        var location = await Cluster.StartUploadAsync("team/app");
        var first = TestData.RandomBytes(1000);
        using (var patch = await Cluster.PatchAsync(location, first, "0-999"))
        {
            await RegistryAssert.StatusAsync(patch, HttpStatusCode.Accepted);
        }

        // Announce 100 000 bytes, send 40 000, wait until the server is writing them, then vanish.
        var address = Cluster.Http.BaseAddress!;
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(address.Host, address.Port);
            var stream = client.GetStream();
            var head = $"PATCH {location} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\nContent-Range: 1000-100999\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(TestData.RandomBytes(40_000));
            await stream.FlushAsync();
            await WaitUntilAsync(async () => await RangeAsync(location) != "0-999", "the server appends the partial chunk");
            client.Client.LingerState = new LingerOption(true, 0); // reset, not a graceful close
        }

        // The broken chunk is cut off once the server notices; the session is back at 1000 bytes.
        await WaitUntilAsync(async () => await RangeAsync(location) == "0-999", "the partial chunk is cut off");
        var second = TestData.RandomBytes(500);
        using (var patch = await Cluster.PatchAsync(location, second, "1000-1499"))
        {
            await RegistryAssert.StatusAsync(patch, HttpStatusCode.Accepted);
            Assert.Equal("0-1499", RegistryAssert.Header(patch, "Range"));
        }
        using var done = await Cluster.CompleteAsync(location, Shoal.Core.Digest.Compute([.. first, .. second]).ToString());
        await RegistryAssert.StatusAsync(done, HttpStatusCode.Created);
    }

    private async Task<string> RangeAsync(string location)
    {
        using var status = await Cluster.Http.GetAsync(location);
        return RegistryAssert.Header(status, "Range");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(10);
        }
    }
}
