using Shoal.TestKit;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Shoal.Agent.Internal;
using Shoal.Clients.Tracker;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.P2P;
using Shoal.P2P.Engine;
using Xunit.Abstractions;

namespace Shoal.Agent.Tests;

/// <summary>Agents pulling through the peer-to-peer swarm: one origin, a tracker, real sockets on loopback.</summary>
public sealed class SwarmTests(ITestOutputHelper output)
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task Pull_TenAgents_AllVerifiedAndOriginUploadsLittle()
    {
        await using var cluster = await SwarmCluster.StartAsync();
        var content = TestData.Random(12 * MiB);
        var digest = await cluster.PushAsync(content);
        var agents = new List<AgentHost>();
        for (var i = 0; i < 10; i++)
        {
            agents.Add(await cluster.StartAgentAsync("agent-" + i));
        }

        var started = DateTime.UtcNow;
        var bodies = await Task.WhenAll(agents.Select(a => a.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest))));
        var elapsed = DateTime.UtcNow - started;

        foreach (var body in bodies)
        {
            Assert.Equal(digest, Digest.Compute(body));
        }
        foreach (var agent in agents)
        {
            await Poll.UntilAsync(() => agent.Store.Contains(digest));
        }
        var originSent = cluster.OriginEngine.Stats.PieceBytesSent;
        var ratio = originSent / (double)content.Length;
        output.WriteLine($"10 agents, {content.Length / MiB} MiB: {elapsed.TotalMilliseconds:0} ms; origin sent {ratio:0.00}x the blob; agents sent {agents.Sum(a => a.Engine().Stats.PieceBytesSent) / (double)content.Length:0.00}x");
        Assert.True(ratio < 2, $"origin sent {ratio:0.00}x the blob");
        Assert.True(agents.Sum(a => a.Engine().Stats.PieceBytesSent) > 0, "agents exchanged nothing");

        // Everyone has every piece: no connection is left holding a slot (the swarms stay open to seed).
        await Poll.UntilAsync(() => cluster.OriginEngine.ConnectionCount == 0 && agents.All(a => a.Engine().ConnectionCount == 0));
    }

    [Fact]
    public async Task Pull_SixteenAgentsWithTwoSlotsPerBlob_NobodyIsLockedOut()
    {
        // Every peer, the origin included, keeps at most two agent connections for the blob: far fewer
        // than the agents pulling it. Peers that are done must make room (complete pairs part, a full
        // peer takes in a newcomer with no connections), or late agents are refused everywhere for good.
        await using var cluster = await SwarmCluster.StartAsync(originEgressLimit: 16 * MiB, originConnectionsPerBlob: 2);
        var content = TestData.Random(8 * MiB);
        var digest = await cluster.PushAsync(content);
        var agents = new List<AgentHost>();
        for (var i = 0; i < 16; i++)
        {
            agents.Add(await cluster.StartAgentAsync("agent-" + i, o => o.P2P.MaxConnectionsPerBlob = 2));
        }

        var started = DateTime.UtcNow;
        var bodies = await Task.WhenAll(agents.Select(a => a.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest)))).WaitAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"16 agents, 2 slots each: {(DateTime.UtcNow - started).TotalMilliseconds:0} ms; origin sent {cluster.OriginEngine.Stats.PieceBytesSent / (double)content.Length:0.00}x the blob");

        foreach (var body in bodies)
        {
            Assert.Equal(digest, Digest.Compute(body));
        }
    }

    [Fact]
    public async Task Pull_PeerServesCorruptPieces_PeerBannedAndBlobCorrect()
    {
        await using var cluster = await SwarmCluster.StartAsync();
        var content = TestData.Random(4 * MiB);
        var digest = await cluster.PushAsync(content);
        var info = await cluster.Origin.GetMetaInfoAsync(digest, TestData.Repository, CancellationToken.None);
        Assert.NotNull(info);

        // A "complete agent" whose bytes are garbage, announced to the tracker so it is handed out first.
        var corrupt = content.ToArray();
        for (var i = 0; i < corrupt.Length; i += 4096)
        {
            corrupt[i] ^= 0xFF;
        }
        var badFile = cluster.Dir.Combine("bad.bin");
        await File.WriteAllBytesAsync(badFile, corrupt);
        await using var bad = new PeerEngine(new P2POptions { Listen = { Port = 0 } }, new PeerEngineSetup { Seeds = new FileSeeds(info, badFile) });
        bad.Start();
        using (var http = new HttpClient())
        {
            var tracker = new TrackerClient(http, cluster.TrackerAddress);
            await tracker.AnnounceAsync(info.InfoHash, digest, TestData.Repository,
                new PeerInfo(PeerId.NewRandom().ToString(), "127.0.0.1", bad.LocalEndPoint!.Port, Origin: false, Complete: true), CancellationToken.None);
        }

        var agent = await cluster.StartAgentAsync("agent");
        var body = await agent.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest));

        Assert.Equal(digest, Digest.Compute(body));
        Assert.True(agent.Engine().Stats.PiecesCorrupt >= 1, "the corrupt peer was never used");
        Assert.True(bad.Stats.PieceBytesSent > 0);
        await Poll.UntilAsync(() => bad.ConnectionCount == 0);
    }

    [Fact]
    public async Task Pull_AgentRestartedMidDownload_ResumesWithVerifiedPieces()
    {
        await using var cluster = await SwarmCluster.StartAsync(originEgressLimit: 4 * MiB);
        var content = TestData.Random(8 * MiB);
        var digest = await cluster.PushAsync(content);
        var first = await cluster.StartAgentAsync("agent");
        var dataDir = first.Options.DataDir;

        using var cts = new CancellationTokenSource();
        var pull = first.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest), cts.Token);
        await Poll.UntilAsync(() => first.Engine().Stats.PiecesVerified >= 12);
        var had = (int)first.Engine().Stats.PiecesVerified;
        await cluster.StopAgentAsync(first);
        await Assert.ThrowsAnyAsync<Exception>(() => pull);

        var second = await cluster.StartAgentAsync("agent", o => o.DataDir = dataDir);
        var body = await second.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest));

        Assert.Equal(digest, Digest.Compute(body));
        var pieceLength = PieceLengthPolicy.For(content.Length);
        var received = second.Engine().Stats.PieceBytesReceived;
        output.WriteLine($"had {had} pieces of {content.Length / pieceLength}; after restart received {received} bytes");
        // At most the pieces it lacked, plus a piece of slack for one in flight at the stop.
        Assert.True(received <= content.Length - ((had - 1L) * pieceLength), $"re-downloaded verified pieces: received {received}, had {had} pieces");
    }

    [Fact]
    public async Task Pull_TrackerRestartedMidSwarm_SwarmCompletes()
    {
        await using var cluster = await SwarmCluster.StartAsync(originEgressLimit: 4 * MiB);
        var content = TestData.Random(8 * MiB);
        var digest = await cluster.PushAsync(content);
        var agents = new List<AgentHost>();
        for (var i = 0; i < 3; i++)
        {
            agents.Add(await cluster.StartAgentAsync("agent-" + i));
        }
        var pulls = agents.Select(a => a.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest))).ToArray();
        await Poll.UntilAsync(() => agents.All(a => a.Engine().Stats.PiecesVerified >= 2));

        await cluster.StopTrackerAsync();
        await Task.Delay(1500); // a couple of announce intervals without a tracker
        await cluster.StartTrackerAsync();

        foreach (var body in await Task.WhenAll(pulls))
        {
            Assert.Equal(digest, Digest.Compute(body));
        }
    }

    [Fact]
    public async Task Pull_TrackerDown_BlobsComeFromTheOriginsOverHttp()
    {
        await using var cluster = await SwarmCluster.StartAsync();
        var content = TestData.Random(3 * MiB + 5);
        var digest = await cluster.PushAsync(content);
        var other = TestData.Random(200 * 1024);
        var otherDigest = await cluster.PushAsync(other);
        var agent = await cluster.StartAgentAsync("agent");
        await cluster.StopTrackerAsync();

        using (var head = new HttpRequestMessage(HttpMethod.Head, AgentHostP2P.BlobPath(digest)))
        using (var answer = await agent.Client.SendAsync(head))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(content.Length, answer.Content.Headers.ContentLength);
        }
        Assert.Equal(digest, Digest.Compute(await agent.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest))));
        Assert.Equal(otherDigest, Digest.Compute(await agent.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(otherDigest))));
        Assert.True(agent.Store.Contains(digest));
        Assert.Equal(0, agent.Engine().Stats.PieceBytesReceived); // not through the swarm
        Assert.Equal(2, agent.Stats.BlobsDownloaded);
        using (var missing = await agent.Client.GetAsync(AgentHostP2P.BlobPath(Digest.Compute([1, 2, 3]))))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode); // the origins say so
        }

        // Back up: once the agent tries the tracker again, new blobs come through the swarm.
        await cluster.StartTrackerAsync();
        var third = TestData.Random(2 * MiB);
        var thirdDigest = await cluster.PushAsync(third);
        await Task.Delay(SwarmBlobSource.TrackerRetryAfter);
        Assert.Equal(thirdDigest, Digest.Compute(await agent.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(thirdDigest))));
        Assert.Equal(third.Length, agent.Engine().Stats.PieceBytesReceived);
    }

    [Fact]
    public async Task Pull_ColdBlobSlowToFetch_AgentsWaitForTheOriginAndGetItThroughTheSwarm()
    {
        // The blob is only in the origin's backend, which reads at 2 MiB/s: its fill takes about 3 s,
        // longer than the tracker waits for an origin (1 s here). The origin answers metainfo 202
        // (after 0.2 s) meanwhile, the tracker passes it on and the agents ask again: they get the
        // blob through the swarm, and no agent falls back to pulling it whole from the origin over HTTP.
        await using var cluster = await SwarmCluster.StartAsync(
            tweakOrigin: (o, dir) =>
            {
                o.Backend = new Storage.BackendOptions
                {
                    Type = Storage.BackendOptions.FileSystem,
                    Root = dir.Combine("backend"),
                    Bandwidth = new Storage.BandwidthOptions { IngressBytesPerSecond = 2 * MiB },
                };
                o.Fetch.AcceptedAfter = TimeSpan.FromMilliseconds(200);
            },
            tweakTracker: t => t.OriginTimeout = TimeSpan.FromSeconds(1));
        var content = TestData.Random(6 * MiB);
        var digest = await PutInBackendAsync(cluster, content);
        var agents = new List<AgentHost>();
        for (var i = 0; i < 3; i++)
        {
            agents.Add(await cluster.StartAgentAsync("agent-" + i));
        }

        var started = DateTime.UtcNow;
        var bodies = await Task.WhenAll(agents.Select(a => a.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(digest)))).WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"3 agents, cold {content.Length / MiB} MiB at 2 MiB/s from the backend: {(DateTime.UtcNow - started).TotalMilliseconds:0} ms");

        foreach (var body in bodies)
        {
            Assert.Equal(digest, Digest.Compute(body));
        }
        Assert.All(agents, a => Assert.True(a.Engine().Stats.PieceBytesReceived >= content.Length, "not through the swarm")); // endgame may duplicate a little
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(cluster.Origin.BaseAddress, "metrics"));
        Assert.Matches(@"(?m)^shoal_origin_metainfo_pending_total [1-9]", metrics);
        Assert.Matches(@"(?m)^shoal_p2p_piece_bytes_sent_total [1-9]", metrics);
        Assert.DoesNotMatch(@"(?m)^shoal_origin_bytes_served_total [1-9]", metrics); // no blob over HTTP
    }

    [Fact]
    public async Task Pull_ColdBlobSlowerThanTheColdBlobTimeout_AnswersUnavailable_TrackerStillUsed()
    {
        await using var cluster = await SwarmCluster.StartAsync(
            tweakOrigin: (o, dir) => o.Backend = new Storage.BackendOptions
            {
                Type = Storage.BackendOptions.FileSystem,
                Root = dir.Combine("backend"),
                Bandwidth = new Storage.BandwidthOptions { IngressBytesPerSecond = 256 * 1024 },
            });
        var cold = await PutInBackendAsync(cluster, TestData.Random(4 * MiB));
        var hot = TestData.Random(MiB);
        var hotDigest = await cluster.PushAsync(hot);
        var agent = await cluster.StartAgentAsync("agent", o => o.ColdBlobTimeout = TimeSpan.FromSeconds(2));

        var started = DateTime.UtcNow;
        using (var response = await agent.Client.GetAsync(AgentHostP2P.BlobPath(cold)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("still fetching", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));

        // Waiting for a cold blob is not a tracker failure: the next blob still comes through the swarm.
        Assert.Equal(hotDigest, Digest.Compute(await agent.Client.GetByteArrayAsync(AgentHostP2P.BlobPath(hotDigest))));
        Assert.Equal(hot.Length, agent.Engine().Stats.PieceBytesReceived);
    }

    /// <summary>Puts <paramref name="content"/> in the cluster origin's filesystem backend only (not in its cache).</summary>
    private static async Task<Digest> PutInBackendAsync(SwarmCluster cluster, byte[] content)
    {
        var digest = Digest.Compute(content);
        var backend = new Storage.FileSystemBackend(cluster.Dir.Combine("backend"));
        await backend.UploadAsync(Storage.BackendNames.ForBlob(digest), new MemoryStream(content), content.Length, CancellationToken.None);
        return digest;
    }

    [Fact]
    public async Task Pull_TrackerDownWithoutOriginFallback_AnswersUnavailable()
    {
        await using var cluster = await SwarmCluster.StartAsync();
        var digest = await cluster.PushAsync(TestData.Random(300 * 1024));
        var agent = await cluster.StartAgentAsync("agent", options => options.OriginFallback = false);
        await cluster.StopTrackerAsync();

        using var response = await agent.Client.GetAsync(AgentHostP2P.BlobPath(digest));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(agent.Store.Contains(digest));
    }

    [Fact]
    public async Task Pull_ReadWhileDownloading_StreamsBeforeCompletion()
    {
        await using var cluster = await SwarmCluster.StartAsync(originEgressLimit: 2 * MiB);
        var content = TestData.Random(8 * MiB);
        var digest = await cluster.PushAsync(content);
        var agent = await cluster.StartAgentAsync("agent");
        var pieces = content.Length / PieceLengthPolicy.For(content.Length);

        using var response = await agent.Client.GetAsync(AgentHostP2P.BlobPath(digest), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var received = new byte[content.Length];
        await body.ReadExactlyAsync(received.AsMemory(0, 64 * 1024));
        var verifiedAtFirstBytes = agent.Engine().Stats.PiecesVerified;
        Assert.False(agent.Store.Contains(digest), "the blob was complete before the first bytes arrived");
        Assert.True(verifiedAtFirstBytes < pieces, "every piece was there before the first bytes arrived");

        await body.ReadExactlyAsync(received.AsMemory(64 * 1024));
        Assert.Equal(0, await body.ReadAsync(new byte[1]));
        Assert.Equal(digest, Digest.Compute(received));
        output.WriteLine($"first bytes after {verifiedAtFirstBytes} of {pieces} pieces");
    }

    [Fact]
    public async Task Pull_RangeWhileDownloading_FetchesItsPiecesFirst()
    {
        await using var cluster = await SwarmCluster.StartAsync(originEgressLimit: 2 * MiB);
        var content = TestData.Random(8 * MiB);
        var digest = await cluster.PushAsync(content);
        var agent = await cluster.StartAgentAsync("agent");
        var pieces = content.Length / PieceLengthPolicy.For(content.Length);

        using var request = new HttpRequestMessage(HttpMethod.Get, AgentHostP2P.BlobPath(digest));
        request.Headers.Range = new RangeHeaderValue(6 * MiB, (6 * MiB) + 99_999);
        using var response = await agent.Client.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var verified = agent.Engine().Stats.PiecesVerified;

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content.AsSpan(6 * MiB, 100_000).ToArray(), bytes);
        Assert.True(verified < pieces / 2, $"{verified} of {pieces} pieces were fetched before the range was served");
    }

    /// <summary>Serves one blob's (possibly corrupt) file under the real metainfo.</summary>
    private sealed class FileSeeds(MetaInfo info, string path) : ISeedSource
    {
        public ValueTask<SeedBlob?> FindAsync(Digest digest, string? @namespace, CancellationToken cancellationToken)
            => ValueTask.FromResult<SeedBlob?>(digest == info.Digest
                ? new SeedBlob(info, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous))
                : null);
    }
}
