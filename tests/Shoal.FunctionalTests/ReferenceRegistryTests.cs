using System.Text.Json;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>
/// Differential test: skopeo pushes the same images to a reference registry (the CNCF distribution
/// registry) and to Shoal's proxy; both, and an agent, must then serve the same manifests (bytes,
/// media type, digest), the same blobs and the same tags.
/// </summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "E2E")]
public sealed class ReferenceRegistryTests(ClusterFixture fixture)
{
    private static readonly string[] AllManifestTypes =
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ];

    [E2EFact(ToolCheck.Skopeo, ToolCheck.DockerRegistry)]
    public async Task Push_SameImagesToReferenceRegistryAndProxy_ServeSameManifestsBlobsAndTags()
    {
        using var reference = await DockerRegistry.StartAsync();
        var source = fixture.Work.CreateSubdirectory("reference-src");
        var builder = new OciImageBuilder(source);
        var single = builder.AddImage("single", new OciImageSpec { LayerSizes = [200 * 1024] });
        var index = builder.AddIndex(
            "multi",
            new OciImageSpec { Platform = OciPlatform.LinuxAmd64, LayerSizes = [128 * 1024] },
            new OciImageSpec { Platform = OciPlatform.LinuxArm64, LayerSizes = [96 * 1024] });
        const string Repository = "e2e/reference";

        foreach (var target in new[] { reference.HostPort, fixture.Cluster.Proxy.HostPort })
        {
            await Skopeo.PushAsync(source, "single", target, $"{Repository}:oci");
            await Skopeo.PushAsync(source, "single", target, $"{Repository}:docker", "--format", "v2s2");
            await Skopeo.PushAsync(source, "multi", target, $"{Repository}:multi", "--all");
            await Skopeo.PushAsync(source, "multi", target, $"{Repository}:multi-docker", "--all", "--format", "v2s2");
        }

        var endpoints = new[] { fixture.Cluster.Proxy.Url, fixture.Cluster.Agents[0].Url };
        var blobs = new HashSet<string>(StringComparer.Ordinal);
        var children = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>(["oci", "docker", "multi", "multi-docker"]);
        while (pending.TryDequeue(out var manifestReference))
        {
            var expected = await Registry.GetManifestAsync(reference.Url, Repository, manifestReference, AllManifestTypes);
            Assert.Equal(Registry.Sha256(expected.Bytes), expected.Digest);
            foreach (var child in CollectDigests(expected.Bytes, blobs))
            {
                if (children.Add(child))
                {
                    pending.Enqueue(child);
                }
            }
            foreach (var endpoint in endpoints)
            {
                foreach (var byWhat in new[] { manifestReference, expected.Digest }.Distinct())
                {
                    var actual = await Registry.GetManifestAsync(endpoint, Repository, byWhat, AllManifestTypes);
                    Assert.True(expected.Bytes.AsSpan().SequenceEqual(actual.Bytes), $"{endpoint} {Repository}:{byWhat} differs from the reference registry's");
                    Assert.Equal(expected.MediaType, actual.MediaType);
                    Assert.Equal(expected.Digest, actual.Digest);
                }
            }
        }
        Assert.Contains(index.For("arm64").Manifest.Digest, children);
        Assert.Contains(single.Config.Digest, blobs);
        Assert.Contains(index.For("arm64").Layers[0].Digest, blobs);

        foreach (var digest in blobs)
        {
            var expected = await Registry.GetBlobAsync(reference.Url, Repository, digest);
            foreach (var endpoint in endpoints)
            {
                var actual = await Registry.GetBlobAsync(endpoint, Repository, digest);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"blob {digest} from {endpoint}");
            }
        }

        var referenceTags = await Registry.GetTagsAsync(reference.Url, Repository);
        Assert.Equal(["docker", "multi", "multi-docker", "oci"], referenceTags.Order(StringComparer.Ordinal));
        Assert.Equal(referenceTags.Order(StringComparer.Ordinal), (await Registry.GetTagsAsync(fixture.Cluster.Proxy.Url, Repository)).Order(StringComparer.Ordinal));
    }

    /// <summary>Adds the config and layer digests a manifest refers to; returns the child manifests an index refers to.</summary>
    private static List<string> CollectDigests(byte[] manifest, HashSet<string> blobs)
    {
        using var json = JsonDocument.Parse(manifest);
        var root = json.RootElement;
        if (root.TryGetProperty("config", out var config))
        {
            blobs.Add(config.GetProperty("digest").GetString()!);
        }
        if (root.TryGetProperty("layers", out var layers))
        {
            blobs.UnionWith(layers.EnumerateArray().Select(l => l.GetProperty("digest").GetString()!));
        }
        return root.TryGetProperty("manifests", out var manifests)
            ? manifests.EnumerateArray().Select(m => m.GetProperty("digest").GetString()!).ToList()
            : [];
    }
}
