using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Clients.Origin;
using Shoal.Origin.Internal;

namespace Shoal.Origin.Tests;

public sealed class ClusterTests
{
    [Fact]
    public async Task Put_TwoOriginCluster_BlobLandsOnBothOwners()
    {
        var urls = new[] { $"http://127.0.0.1:{OriginHost.FreePort()}", $"http://127.0.0.1:{OriginHost.FreePort()}" };
        await using var a = await StartMemberAsync(urls, 0);
        await using var b = await StartMemberAsync(urls, 1);
        var (digest, data) = OriginHost.RandomBlob(600_000);

        await a.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "library/nginx", replicate: true, CancellationToken.None);

        Assert.True(a.Store.Contains(digest));
        await OriginHost.WaitUntilAsync(() => b.Store.Contains(digest), "the copy reaches the other owner");
        Assert.Equal(data, await b.GetBytesAsync(digest));
    }

    [Fact]
    public async Task ChunkedCommit_TwoOriginCluster_BlobLandsOnBothOwners()
    {
        var urls = new[] { $"http://127.0.0.1:{OriginHost.FreePort()}", $"http://127.0.0.1:{OriginHost.FreePort()}" };
        await using var a = await StartMemberAsync(urls, 0);
        await using var b = await StartMemberAsync(urls, 1);
        var (digest, data) = OriginHost.RandomBlob(1000);

        var id = await b.Client.StartUploadAsync("team/app", CancellationToken.None);
        await b.Client.AppendUploadAsync(id, new MemoryStream(data), data.Length, 0, CancellationToken.None);
        await b.Client.CommitUploadAsync(id, digest, replicate: true, CancellationToken.None);

        await OriginHost.WaitUntilAsync(() => a.Store.Contains(digest), "the copy reaches the other owner");
        Assert.Equal(data, await a.GetBytesAsync(digest));
    }

    [Fact]
    public async Task Put_ReplicateFalse_StaysLocal()
    {
        var urls = new[] { $"http://127.0.0.1:{OriginHost.FreePort()}", $"http://127.0.0.1:{OriginHost.FreePort()}" };
        await using var a = await StartMemberAsync(urls, 0);
        await using var b = await StartMemberAsync(urls, 1);
        var (digest, data) = OriginHost.RandomBlob(100);

        await a.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: false, CancellationToken.None);

        Assert.True(a.Store.Contains(digest));
        Assert.False(b.Store.Contains(digest));
    }

    [Fact]
    public async Task Put_OwnerUnreachable_StillAcknowledged()
    {
        var urls = new[] { $"http://127.0.0.1:{OriginHost.FreePort()}", $"http://127.0.0.1:{OriginHost.FreePort()}" };
        await using var a = await StartMemberAsync(urls, 0); // the second origin never starts
        var (digest, data) = OriginHost.RandomBlob(100);

        await a.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        Assert.Equal(data, await a.GetBytesAsync(digest));
    }

    [Fact]
    public async Task Put_ThreeOrigins_CopiesGoToTheOwnersOnly()
    {
        var urls = Enumerable.Range(0, 3).Select(_ => $"http://127.0.0.1:{OriginHost.FreePort()}").ToArray();
        await using var o0 = await StartMemberAsync(urls, 0);
        await using var o1 = await StartMemberAsync(urls, 1);
        await using var o2 = await StartMemberAsync(urls, 2);
        var members = new[] { o0, o1, o2 };
        using var http = new HttpClient();
        var cluster = new OriginCluster(http, members.Select(m => m.BaseAddress), replicas: 2);

        // Uploaded to an owner: the other owner gets a copy, the third origin none.
        var (digest, data) = OriginHost.RandomBlob(100);
        var owners = cluster.Owners(digest).Select(o => o.BaseAddress).ToHashSet();
        var first = members.First(m => owners.Contains(m.BaseAddress));
        await first.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);
        await WaitForQueuesAsync(members);
        Assert.All(members, m => Assert.Equal(owners.Contains(m.BaseAddress), m.Store.Contains(digest)));

        // Uploaded to the origin that does not own it: it keeps its copy and both owners get one.
        var (other, otherData) = OriginHost.RandomBlob(100);
        var otherOwners = cluster.Owners(other).Select(o => o.BaseAddress).ToHashSet();
        var nonOwner = members.Single(m => !otherOwners.Contains(m.BaseAddress));
        await nonOwner.Client.UploadAsync(other, new MemoryStream(otherData), otherData.Length, null, replicate: true, CancellationToken.None);
        await WaitForQueuesAsync(members);
        Assert.All(members, m => Assert.True(m.Store.Contains(other)));
    }

    [Fact]
    public async Task Put_OwnerAlreadyHasBlob_CopyStillCountsAsSucceeded()
    {
        var urls = new[] { $"http://127.0.0.1:{OriginHost.FreePort()}", $"http://127.0.0.1:{OriginHost.FreePort()}" };
        await using var a = await StartMemberAsync(urls, 0);
        await using var b = await StartMemberAsync(urls, 1);
        var (digest, data) = OriginHost.RandomBlob(8 * 1024 * 1024);
        var meter = a.App.Services.GetRequiredService<OriginMetrics>().Meter;
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "shoal.origin.replications")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                outcomes.Enqueue((string)tag.Value!);
            }
        });
        listener.Start();

        await b.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: false, CancellationToken.None);
        await a.Client.UploadAsync(digest, new MemoryStream(data), data.Length, null, replicate: true, CancellationToken.None);

        await WaitForQueuesAsync([a]);
        Assert.Equal(["ok"], outcomes);
    }

    private static Task WaitForQueuesAsync(IEnumerable<OriginHost> members)
        => OriginHost.WaitUntilAsync(() => members.All(m => m.App.Services.GetRequiredService<WriteBackQueue>().Depth == 0), "every queue is empty");

    private static Task<OriginHost> StartMemberAsync(string[] urls, int index)
        => OriginHost.StartAsync(o =>
        {
            o.Listen.Port = new Uri(urls[index]).Port;
            o.Cluster.Origins = [.. urls];
            o.Cluster.Self = urls[index];
            o.Cluster.Replicas = 2;
        });
}
