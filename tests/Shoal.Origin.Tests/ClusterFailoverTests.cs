using Microsoft.Extensions.DependencyInjection;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Origin.Internal;

namespace Shoal.Origin.Tests;

/// <summary>Three origins in one process: replicas, peer reads, health checks, queued copies.</summary>
public sealed class ClusterFailoverTests
{
    [Fact]
    public async Task Get_OwnerKilled_ReadsServedByTheReplica()
    {
        var urls = Urls(3);
        var members = new List<OriginHost>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                members.Add(await StartMemberAsync(urls, i));
            }
            using var http = new HttpClient();
            var cluster = new OriginCluster(http, members.Select(m => m.BaseAddress), replicas: 2);
            var (digest, data) = OriginHost.RandomBlob(700_000);
            var owners = cluster.Owners(digest).Select(o => o.BaseAddress).ToArray();
            var first = members.Single(m => m.BaseAddress == owners[0]);
            var second = members.Single(m => m.BaseAddress == owners[1]);
            var third = members.Single(m => !owners.Contains(m.BaseAddress));

            await first.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "library/app", replicate: true, CancellationToken.None);
            await OriginHost.WaitUntilAsync(() => second.Store.Contains(digest), "the replica gets its copy");
            await first.StopAsync(); // kill the first owner

            // Callers fail over to the replica …
            await using (var blob = await cluster.OpenReadAsync(digest, "library/app", null, CancellationToken.None))
            {
                Assert.NotNull(blob);
                using var copy = new MemoryStream();
                await blob.Content.CopyToAsync(copy);
                Assert.Equal(data, copy.ToArray());
            }
            // … and the origin that owns nothing fetches from the surviving owner (it has no backend).
            Assert.False(third.Store.Contains(digest));
            Assert.Equal(data, await third.GetBytesAsync(digest));
            Assert.True(third.Store.Contains(digest));
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Put_ReplicaDown_CopyQueuedAndDeliveredWhenItReturns()
    {
        var urls = Urls(2);
        await using var a = await StartMemberAsync(urls, 0);
        var b = await StartMemberAsync(urls, 1);
        try
        {
            await b.StopAsync();
            var (digest, data) = OriginHost.RandomBlob(50_000);

            await a.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

            var queue = a.App.Services.GetRequiredService<WriteBackQueue>();
            await OriginHost.WaitUntilAsync(async () => (await queue.ListAsync(10, CancellationToken.None)) is [{ Kind: WriteBackKinds.Replicate, Attempts: >= 1 }],
                "the copy to the down replica failed once and waits");

            b = await b.RestartAsync(); // same port, same data directory
            await OriginHost.WaitUntilAsync(() => b.Store.Contains(digest), "the copy reaches the returning replica");
            Assert.Equal(data, await b.GetBytesAsync(digest));
            await OriginHost.WaitUntilAsync(() => queue.Depth == 0, "the task is deleted");
        }
        finally
        {
            await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task HealthCheck_OwnerDown_SkippedAndAnotherOriginGetsTheCopy()
    {
        var urls = Urls(3);
        var members = new List<OriginHost>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                members.Add(await StartMemberAsync(urls, i, fastHealthChecks: true));
            }
            var down = members[2];
            var downUrl = new Uri(urls[2]).AbsoluteUri;
            // A blob owned by origin 0 and the origin about to go down.
            Digest digest;
            byte[] data;
            var membership = members[0].App.Services.GetRequiredService<ClusterMembership>();
            do
            {
                (digest, data) = OriginHost.RandomBlob(1000);
            }
            while (!membership.Order(digest).Take(2).SequenceEqual([new Uri(urls[0]).AbsoluteUri, downUrl]));
            await down.StopAsync();
            await OriginHost.WaitUntilAsync(() => !membership.IsHealthy(downUrl), "the health checks notice");
            await OriginHost.WaitUntilAsync(() => membership.IsHealthy(new Uri(urls[1]).AbsoluteUri), "the live fallback counts as healthy");

            await members[0].Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

            // The live fallback gets a copy now; the down owner's copy waits in the queue.
            await OriginHost.WaitUntilAsync(() => members[1].Store.Contains(digest), "the next origin gets the copy");
            Assert.Contains(await members[0].App.Services.GetRequiredService<WriteBackQueue>().ListAsync(10, CancellationToken.None), t => t.Target == downUrl);
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    [Fact]
    public void ReplicaTargets_AllHealthy_AreTheOtherOwners()
    {
        var options = new OriginOptions { DataDir = "/unused" };
        options.Cluster.Origins = ["http://a:1", "http://b:1", "http://c:1"];
        options.Cluster.Self = "http://a:1";
        using var membership = new ClusterMembership(options);
        var digest = Digest.Compute("x"u8);

        var owners = membership.Order(digest).Take(2).ToArray();
        var expected = owners.Where(o => o != "http://a:1/");

        Assert.Equal(expected, membership.ReplicaTargets(digest));
        Assert.DoesNotContain("http://a:1/", membership.PeersToAsk(digest));
    }

    private static string[] Urls(int count) => Enumerable.Range(0, count).Select(_ => $"http://127.0.0.1:{OriginHost.FreePort()}").ToArray();

    private static Task<OriginHost> StartMemberAsync(string[] urls, int index, bool fastHealthChecks = false)
        => OriginHost.StartAsync(o =>
        {
            o.Listen.Port = new Uri(urls[index]).Port;
            o.Cluster.Origins = [.. urls];
            o.Cluster.Self = urls[index];
            o.Cluster.Replicas = 2;
            OriginHost.FastRetries(o);
            if (fastHealthChecks)
            {
                // A stopped origin refuses connections at once, so it is noticed within two intervals;
                // a live one slowed down by a busy machine is not taken for dead.
                o.Cluster.HealthCheck.Interval = TimeSpan.FromMilliseconds(100);
                o.Cluster.HealthCheck.Timeout = TimeSpan.FromSeconds(3);
                o.Cluster.HealthCheck.FailureThreshold = 2;
            }
        });
}
