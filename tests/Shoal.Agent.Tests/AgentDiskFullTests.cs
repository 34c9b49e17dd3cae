using System.Net;
using Shoal.Core;
using Shoal.TestKit;

namespace Shoal.Agent.Tests;

/// <summary>
/// A node whose disk is full: a pull that does not fit fails with a clear registry error in bounded
/// time, leaves nothing half-written in the store, and the next blob that fits is pulled as usual.
/// On a real filesystem of a few MiB (tmpfs).
/// </summary>
public sealed class AgentDiskFullTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [E2EFact(ToolCheck.Root)]
    public async Task HttpSource_BlobLargerThanTheDisk_ClearError_ThenASmallBlobIsPulled()
    {
        await using var disk = await TmpfsMount.CreateAsync(4);
        await using var cluster = await TestCluster.StartAsync(o => o.DataDir = disk.Path);
        var agent = cluster.Agent;
        var large = await cluster.PushBlobAsync(TestData.Repository, TestData.Random(8 * 1024 * 1024));
        var small = TestData.Random(512 * 1024);
        var smallDigest = await cluster.PushBlobAsync(TestData.Repository, small);

        await AssertFailsCleanlyAsync(agent, large, disk);

        Assert.Equal(small, await agent.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(smallDigest)).WaitAsync(Bound));
    }

    [E2EFact(ToolCheck.Root)]
    public async Task Swarm_BlobLargerThanTheDisk_ClearError_ThenASmallBlobIsPulled()
    {
        await using var disk = await TmpfsMount.CreateAsync(4);
        await using var cluster = await SwarmCluster.StartAsync();
        var agent = await cluster.StartAgentAsync("a", o => o.DataDir = disk.Path);
        var large = await cluster.PushAsync(TestData.Random(8 * 1024 * 1024));
        var small = TestData.Random(512 * 1024);
        var smallDigest = await cluster.PushAsync(small);

        await AssertFailsCleanlyAsync(agent, large, disk);

        Assert.Equal(small, await agent.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(smallDigest)).WaitAsync(Bound));
    }

    /// <summary>
    /// The pull fails: an error status before the first byte (registry error JSON), or, once the agent
    /// started streaming the blob, a cut-off response (a runtime retries either way); never a whole
    /// 200. Nothing of the blob stays on the disk.
    /// </summary>
    private static async Task AssertFailsCleanlyAsync(AgentHost agent, Digest digest, TmpfsMount disk)
    {
        try
        {
            using var response = await agent.Client.GetAsync(AgentHostP2P.BlobPath(digest)).WaitAsync(Bound);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("\"errors\"", body, StringComparison.Ordinal);
        }
        catch (HttpRequestException)
        {
            // Cut off while streaming.
        }
        Assert.False(agent.Store.Contains(digest));
        await Poll.UntilAsync(() => disk.UsedBytes < disk.TotalBytes / 4);
    }
}
