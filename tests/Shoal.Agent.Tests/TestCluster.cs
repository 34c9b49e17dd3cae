using Shoal.TestKit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Shoal.BuildIndex;
using Shoal.Clients.BuildIndex;
using Shoal.Clients.Origin;
using Shoal.Core;
using Shoal.Hosting;
using Shoal.Origin;

namespace Shoal.Agent.Tests;

/// <summary>
/// A real origin and build-index, each on port 0, and an agent in front of them. Content is seeded
/// the way the proxy writes it: blob bytes to the origin, links, manifest records and tags to build-index.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private readonly HttpClient _http = new();
    private WebApplication? _origin;
    private WebApplication? _buildIndex;

    private TestCluster(TempDirectory dir, WebApplication origin, WebApplication buildIndex, AgentHost agent)
    {
        _dir = dir;
        _origin = origin;
        _buildIndex = buildIndex;
        Agent = agent;
        Origin = new OriginClient(_http, origin.BaseAddress());
        BuildIndex = new BuildIndexClient(_http, buildIndex.BaseAddress());
    }

    public AgentHost Agent { get; }

    public OriginClient Origin { get; }

    public BuildIndexClient BuildIndex { get; }

    public static async Task<TestCluster> StartAsync(Action<AgentOptions>? tweak = null)
    {
        var dir = new TempDirectory();
        var origin = OriginServer.Build(new OriginOptions { DataDir = dir.Combine("origin"), Listen = { Port = 0 } }, Quiet);
        await origin.StartAsync();
        var buildIndex = BuildIndexServer.Build(new BuildIndexOptions { DataDir = dir.Combine("build-index"), Listen = { Port = 0 } }, Quiet);
        await buildIndex.StartAsync();
        var agent = await AgentHost.StartAsync(dir.Combine("agent"), buildIndex.BaseAddress(), [origin.BaseAddress()], tweak);
        return new TestCluster(dir, origin, buildIndex, agent);
    }

    /// <summary>Uploads a blob to the origin and links it to <paramref name="repository"/>.</summary>
    public async Task<Digest> PushBlobAsync(string repository, byte[] content)
    {
        var digest = Digest.Compute(content);
        await Origin.UploadAsync(digest, new MemoryStream(content), content.Length, repository, replicate: false, CancellationToken.None);
        await BuildIndex.PutBlobLinkAsync(repository, digest, CancellationToken.None);
        return digest;
    }

    /// <summary>Stores manifest bytes in the origin, records the revision and, when given, points the tag at it.</summary>
    public async Task<Digest> PushManifestAsync(string repository, string? tag, string mediaType, byte[] content)
    {
        var digest = Digest.Compute(content);
        await Origin.UploadAsync(digest, new MemoryStream(content), content.Length, repository, replicate: false, CancellationToken.None);
        await BuildIndex.PutManifestAsync(repository, digest, new ManifestRecord(mediaType, content.Length), CancellationToken.None);
        if (tag is not null)
        {
            await BuildIndex.PutTagAsync(repository, tag, digest, CancellationToken.None);
        }
        return digest;
    }

    /// <summary>Pushes a config and a layer, then a manifest of <paramref name="mediaType"/> (an index points at a child manifest).</summary>
    public async Task<(Digest Digest, byte[] Content)> PushImageAsync(string repository, string? tag, string mediaType)
    {
        var config = await PushBlobAsync(repository, TestData.Config());
        var layerBytes = TestData.Random(50_000);
        var layer = await PushBlobAsync(repository, layerBytes);
        var manifest = TestData.Manifest(mediaType, config, TestData.Config().Length, layer, layerBytes.Length);
        if (Core.Registry.MediaTypes.IsIndex(mediaType))
        {
            var childType = mediaType == Core.Registry.MediaTypes.OciIndex ? Core.Registry.MediaTypes.OciManifest : Core.Registry.MediaTypes.DockerManifest;
            var child = TestData.Manifest(childType, config, TestData.Config().Length, layer, layerBytes.Length);
            var childDigest = await PushManifestAsync(repository, null, childType, child);
            manifest = TestData.Index(mediaType, childType, childDigest, child.Length);
        }
        return (await PushManifestAsync(repository, tag, mediaType, manifest), manifest);
    }

    public async Task StopOriginAsync()
    {
        if (_origin is not null)
        {
            await _origin.DisposeAsync();
            _origin = null;
        }
    }

    public async Task StopBuildIndexAsync()
    {
        if (_buildIndex is not null)
        {
            await _buildIndex.DisposeAsync();
            _buildIndex = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync();
        await StopOriginAsync();
        await StopBuildIndexAsync();
        _http.Dispose();
        _dir.Dispose();
    }

    internal static void Quiet(WebApplicationBuilder builder)
        => builder.Logging.AddFilter(level => level >= LogLevel.Warning);
}
