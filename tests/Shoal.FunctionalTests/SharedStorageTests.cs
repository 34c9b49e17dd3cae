using Microsoft.Extensions.Logging;
using Shoal.Dev;
using Shoal.Storage;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>
/// Topology (b): a Docker registry (CNCF distribution) and a Shoal cluster on one filesystem
/// directory, Shoal's backends in the registry's layout. What is pushed to either is pulled
/// byte-identical from the other. The origin's backend in <c>layout: distribution</c> writes
/// through (its default): what a push through Shoal acknowledged, the registry serves at once.
/// </summary>
[Trait("Category", "E2E")]
public sealed class SharedStorageTests : IAsyncLifetime
{
    private static readonly string[] AllManifestTypes =
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ];
    private readonly TempDirectory _work = new("shoal-shared");
    private DockerRegistry? _registry;
    private DevCluster? _cluster;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
        _registry?.Dispose();
        _work.Dispose();
    }

    [E2EFact(ToolCheck.Skopeo, ToolCheck.DockerRegistry)]
    public async Task SharedFilesystem_PushToEither_PulledByteIdenticalFromTheOther()
    {
        var storage = _work.CreateSubdirectory("storage");
        _registry = await DockerRegistry.StartAsync(rootDirectory: storage);
        _cluster = await DevCluster.StartAsync(new DevClusterOptions
        {
            DataDir = _work.CreateSubdirectory("cluster"),
            AgentCount = 1,
            UsePortZero = true,
            LogLevel = LogLevel.Warning,
            Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = storage, Layout = BackendOptions.DistributionLayoutName },
        });
        var source = _work.CreateSubdirectory("src");
        var builder = new OciImageBuilder(source);
        var toRegistry = builder.AddImage("to-registry", new OciImageSpec { LayerSizes = [300 * 1024, 64 * 1024] });
        var toShoal = builder.AddImage("to-shoal", new OciImageSpec { LayerSizes = [500 * 1024] });

        // 1. Pushed to the registry, pulled through a Shoal agent: tag, manifest and blobs come from the shared storage.
        await Skopeo.PushAsync(source, "to-registry", _registry.HostPort, "shared/app:v1");
        var viaAgent = _work.Combine("via-agent");
        await Skopeo.PullAsync(_cluster.Agents[0].HostPort, "shared/app:v1", $"oci:{viaAgent}:v1");
        Assert.Equal(toRegistry.Manifest.Digest, OciLayoutReader.Resolve(viaAgent, "v1").Digest);
        AssertSameBlobs(source, toRegistry.BlobDigests, viaAgent);
        Assert.Contains("v1", await Registry.GetTagsAsync(_cluster.Proxy.Url, "shared/app"));

        // Docker schema 2 and a multi-platform index pushed to the registry: Shoal takes each
        // manifest's media type from the manifest bytes in the storage and serves the same bytes.
        var index = builder.AddIndex(
            "multi",
            new OciImageSpec { Platform = OciPlatform.LinuxAmd64, LayerSizes = [64 * 1024] },
            new OciImageSpec { Platform = OciPlatform.LinuxArm64, LayerSizes = [48 * 1024] });
        await Skopeo.PushAsync(source, "to-registry", _registry.HostPort, "shared/app:docker", "--format", "v2s2");
        await Skopeo.PushAsync(source, "multi", _registry.HostPort, "shared/app:multi", "--all");
        foreach (var reference in new[] { "docker", "multi", index.For("arm64").Manifest.Digest })
        {
            var expected = await Registry.GetManifestAsync(_registry.Url, "shared/app", reference, AllManifestTypes);
            var actual = await Registry.GetManifestAsync(_cluster.Agents[0].Url, "shared/app", reference, AllManifestTypes);
            Assert.True(expected.Bytes.AsSpan().SequenceEqual(actual.Bytes), $"shared/app:{reference} differs between the registry and the agent");
            Assert.Equal(expected.MediaType, actual.MediaType);
            Assert.Equal(expected.Digest, actual.Digest);
        }
        var multi = _work.Combine("multi-via-agent");
        await Skopeo.PullAsync(_cluster.Agents[0].HostPort, "shared/app:multi", $"oci:{multi}:multi", "--all");
        AssertSameBlobs(source, index.For("arm64").BlobDigests.Concat(index.For("amd64").BlobDigests), multi);

        // 2. Pushed through Shoal's proxy, pulled from the registry right away: the origin acknowledged
        //    each blob, and the manifest bytes, only once they were in the storage, and build-index wrote
        //    the tag after that. First with a layer the storage cannot take (a file where its directory
        //    goes): the push fails and nothing is tagged, rather than a tag the registry cannot serve.
        var layerHex = toShoal.Layers[0].Digest["sha256:".Length..];
        var blocker = Path.Combine(storage, "docker", "registry", "v2", "blobs", "sha256", layerHex[..2], layerHex);
        Directory.CreateDirectory(Path.GetDirectoryName(blocker)!);
        await File.WriteAllTextAsync(blocker, "in the way");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Skopeo.PushAsync(source, "to-shoal", _cluster.Proxy.HostPort, "shared/app:v2"));
        Assert.DoesNotContain("v2", await Registry.GetTagsAsync(_registry.Url, "shared/app"));
        File.Delete(blocker);
        await Skopeo.PushAsync(source, "to-shoal", _cluster.Proxy.HostPort, "shared/app:v2");
        var viaRegistry = _work.Combine("via-registry");
        await Skopeo.PullAsync(_registry.HostPort, "shared/app:v2", $"oci:{viaRegistry}:v2");
        Assert.Equal(toShoal.Manifest.Digest, OciLayoutReader.Resolve(viaRegistry, "v2").Digest);
        AssertSameBlobs(source, toShoal.BlobDigests, viaRegistry);
        Assert.Equal(["docker", "multi", "v1", "v2"], (await Registry.GetTagsAsync(_registry.Url, "shared/app")).Order(StringComparer.Ordinal));

        // 3. A tag deleted through Shoal is gone for the registry too (no empty tag directory left for
        //    it to list), and the other tags are untouched.
        using (var http = new HttpClient())
        {
            using var deleted = await http.DeleteAsync(new Uri(_cluster.Proxy.Url, "/v2/shared/app/manifests/v2"));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, deleted.StatusCode);
        }
        Assert.Equal(["docker", "multi", "v1"], (await Registry.GetTagsAsync(_registry.Url, "shared/app")).Order(StringComparer.Ordinal));
        Assert.Equal(["docker", "multi", "v1"], (await Registry.GetTagsAsync(_cluster.Proxy.Url, "shared/app")).Order(StringComparer.Ordinal));
    }

    private static void AssertSameBlobs(string source, IEnumerable<string> digests, string pulled)
    {
        foreach (var digest in digests)
        {
            var hex = digest["sha256:".Length..];
            Assert.True(
                File.ReadAllBytes(Path.Combine(source, "blobs", "sha256", hex)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(pulled, "blobs", "sha256", hex))),
                $"blob {digest} differs");
        }
    }
}
