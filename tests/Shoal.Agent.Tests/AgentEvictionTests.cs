using Shoal.TestKit;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Core;
using Shoal.Hosting.Eviction;

namespace Shoal.Agent.Tests;

/// <summary>The node's cache stays within its capacity and drops what nobody read for a while; evicted blobs come back on the next pull.</summary>
public sealed class AgentEvictionTests
{
    [Fact]
    public async Task Sweep_OverCapacity_EvictsDownToTheLowWatermark_EvictedBlobPulledAgain()
    {
        await using var cluster = await TestCluster.StartAsync(o => o.Eviction = new EvictionOptions { Capacity = 700_000 });
        var agent = cluster.Agent;
        var digests = new List<Digest>();
        for (var i = 0; i < 3; i++)
        {
            var content = TestData.Random(400_000);
            digests.Add(await cluster.PushBlobAsync(TestData.Repository, content));
            Assert.Equal(content, await agent.Client.GetByteArrayAsync($"/v2/{TestData.Repository}/blobs/{digests[i]}"));
        }
        Assert.Equal(1_200_000, agent.Store.TotalBytes);

        // 1.2 MB > 0.9 × 0.7 MB: least recently read first, down to 0.8 × 0.7 MB or below (two go).
        var evicted = agent.Services.GetRequiredService<EvictionSweeper>().Sweep();

        Assert.Equal(2, evicted);
        Assert.Equal(400_000, agent.Store.TotalBytes);
        var gone = digests.First(d => !agent.Store.Contains(d));
        using var again = await agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{gone}");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(gone, Digest.Compute(await again.Content.ReadAsByteArrayAsync()));
        Assert.True(agent.Store.Contains(gone));
        Assert.Equal(4, agent.Stats.BlobsDownloaded);
        var metrics = await agent.Client.GetStringAsync("/metrics");
        Assert.Contains("shoal_agent_evictions_total{reason=\"capacity\"} 2", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_BlobBeingServed_Stays_GoesOnceItsResponseEnded()
    {
        await using var cluster = await TestCluster.StartAsync(o => o.Eviction = new EvictionOptions { Capacity = 1_000_000 });
        var agent = cluster.Agent;
        var sweeper = agent.Services.GetRequiredService<EvictionSweeper>();
        // Larger than what the sockets buffer: the agent is still writing while the client pauses.
        var content = TestData.Random(24 * 1024 * 1024);
        var digest = await cluster.PushBlobAsync(TestData.Repository, content);

        using (var response = await agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            var received = new byte[content.Length];
            await body.ReadExactlyAsync(received.AsMemory(0, 1024 * 1024));
            Assert.True(agent.Store.Contains(digest));

            Assert.Equal(0, sweeper.Sweep()); // 24 MiB of a 1 MB cache, but a reader is on it

            Assert.True(agent.Store.Contains(digest));
            await body.ReadExactlyAsync(received.AsMemory(1024 * 1024));
            Assert.Equal(content, received);
        }
        await Poll.UntilAsync(() => sweeper.Sweep() == 1);
        Assert.False(agent.Store.Contains(digest));
    }

    [E2EFact(ToolCheck.Root)]
    public async Task Sweep_FilesystemFullerThanTheDiskHighWatermark_EvictsLeastRecentlyReadUntilEnoughIsFreed()
    {
        // A real filesystem of 16 MiB (tmpfs) under the agent's data directory.
        await using var disk = await TmpfsMount.CreateAsync(16);
        await using var cluster = await TestCluster.StartAsync(o =>
        {
            o.DataDir = disk.Path;
            o.Eviction = new EvictionOptions { DiskHighWatermark = 0.5, DiskLowWatermark = 0.3 };
        });
        var agent = cluster.Agent;
        var digests = new List<Digest>();
        for (var i = 0; i < 3; i++)
        {
            var content = TestData.Random(3 * 1024 * 1024);
            digests.Add(await cluster.PushBlobAsync(TestData.Repository, content));
            Assert.Equal(content, await agent.Client.GetByteArrayAsync($"/v2/{TestData.Repository}/blobs/{digests[i]}"));
            await Task.Delay(20); // distinct last-read times
        }
        Assert.True(disk.UsedBytes > disk.TotalBytes / 2, "9 MiB of blobs fill more than half of 16 MiB");

        // About 4.8 MiB must go to get down to 30 %: the two least recently read blobs.
        var evicted = agent.Services.GetRequiredService<EvictionSweeper>().Sweep();

        Assert.Equal(2, evicted);
        Assert.False(agent.Store.Contains(digests[0]));
        Assert.False(agent.Store.Contains(digests[1]));
        Assert.True(agent.Store.Contains(digests[2]));
        Assert.True(disk.UsedBytes < disk.TotalBytes / 2);
        var metrics = await agent.Client.GetStringAsync("/metrics");
        Assert.Contains("shoal_agent_evictions_total{reason=\"disk\"} 2", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_TimeToIdle_EvictsWhatWasNotReadSince_PinnedStays()
    {
        await using var cluster = await TestCluster.StartAsync(o => o.Eviction = new EvictionOptions { TimeToIdle = TimeSpan.FromMilliseconds(1) });
        var agent = cluster.Agent;
        var idle = await cluster.PushBlobAsync(TestData.Repository, TestData.Random(1000));
        var pinned = await cluster.PushBlobAsync(TestData.Repository, TestData.Random(1000));
        foreach (var digest in new[] { idle, pinned })
        {
            using var response = await agent.Client.GetAsync($"/v2/{TestData.Repository}/blobs/{digest}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        agent.Store.UpdateFlags(pinned, pinned: true);
        await Task.Delay(50);

        Assert.Equal(1, agent.Services.GetRequiredService<EvictionSweeper>().Sweep());
        Assert.False(agent.Store.Contains(idle));
        Assert.True(agent.Store.Contains(pinned));
    }

    [Fact]
    public async Task Sweep_BlobTheSwarmStillSeeds_SwarmForgetsIt_NextPullDownloadsAgain()
    {
        // Through the swarm the completed download stays open to seed; evicting the blob must close
        // it, or the next pull would join a download whose result has left the store.
        await using var cluster = await SwarmCluster.StartAsync();
        var content = TestData.Random(300_000);
        var digest = await cluster.PushAsync(content);
        var agent = await cluster.StartAgentAsync("agent", o => o.Eviction = new EvictionOptions { TimeToIdle = TimeSpan.FromMilliseconds(1) });
        Assert.Equal(content, await agent.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest)));
        Assert.Equal(1, agent.Engine().SwarmCount);
        await Task.Delay(50);

        Assert.Equal(1, agent.Services.GetRequiredService<EvictionSweeper>().Sweep());
        Assert.False(agent.Store.Contains(digest));
        Assert.Equal(0, agent.Engine().SwarmCount);

        Assert.Equal(content, await agent.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest)));
        await Poll.UntilAsync(() => agent.Store.Contains(digest)); // committed just after the last byte
        await Poll.UntilAsync(() => agent.Stats.BlobsDownloaded == 2);
    }

    [Fact]
    public void Options_DefaultTimeToIdleIsSixHours_DiskWatermarkOff_WatermarksValidated()
    {
        var options = new AgentOptions();
        Assert.Equal(TimeSpan.FromHours(6), options.Eviction.TimeToIdle);
        Assert.Equal(0, options.Eviction.Capacity);
        Assert.Equal(0, options.Eviction.DiskHighWatermark);
        Assert.Equal(["LowWatermark"], Invalid(new EvictionOptions { HighWatermark = 0.5, LowWatermark = 0.7 }));
        Assert.Equal(["DiskLowWatermark"], Invalid(new EvictionOptions { DiskHighWatermark = 0.5, DiskLowWatermark = 0.7 }));
        Assert.Equal(["DiskHighWatermark"], Invalid(new EvictionOptions { DiskHighWatermark = 0.001 }));
        Assert.Empty(Invalid(new EvictionOptions { DiskHighWatermark = 0.85 }));
    }

    private static string[] Invalid(EvictionOptions options)
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true);
        return [.. results.SelectMany(r => r.MemberNames)];
    }
}
