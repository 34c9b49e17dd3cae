using System.Text.Json;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>
/// skopeo pushes images built from scratch to the proxy and pulls them back through agents; every
/// blob that comes back must be byte-identical to what was pushed (or, where skopeo converts the
/// manifest, to what the proxy stored).
/// </summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "E2E")]
public sealed class SkopeoTests(ClusterFixture fixture)
{
    private const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    [E2EFact(ToolCheck.Skopeo)]
    public async Task Copy_SingleArchOciImage_PullsBackByteIdenticalThroughEveryAgent()
    {
        var source = fixture.Work.CreateSubdirectory("single-src");
        var image = new OciImageBuilder(source).AddImage("v1", new OciImageSpec { LayerSizes = [300 * 1024, 1024 * 1024, 64 * 1024] });

        await Skopeo.PushAsync(source, "v1", fixture.Cluster.Proxy.HostPort, "e2e/single:v1");

        foreach (var agent in fixture.Cluster.Agents)
        {
            var pulled = fixture.Work.Combine($"single-{agent.Name}");
            await Skopeo.PullAsync(agent.HostPort, "e2e/single:v1", $"oci:{pulled}:v1");

            Assert.Equal(image.Manifest.Digest, OciLayoutReader.Resolve(pulled, "v1").Digest);
            AssertSameBlobs(source, image.BlobDigests, pulled);
        }
    }

    [E2EFact(ToolCheck.Skopeo)]
    public async Task Copy_DockerSchema2Image_PullsBackWhatTheProxyStored()
    {
        var source = fixture.Work.CreateSubdirectory("v2s2-src");
        var image = new OciImageBuilder(source).AddImage("v1", new OciImageSpec { LayerSizes = [200 * 1024, 700 * 1024] });

        await Skopeo.PushAsync(source, "v1", fixture.Cluster.Proxy.HostPort, "e2e/schema2:v1", "--format", "v2s2");

        // skopeo converted the manifest (and so its digest); the layers and config are the source's.
        var stored = await Registry.GetManifestAsync(fixture.Cluster.Proxy.Url, "e2e/schema2", "v1", DockerManifest);
        Assert.Equal(DockerManifest, stored.MediaType);
        Assert.Equal(Registry.Sha256(stored.Bytes), stored.Digest);
        using var manifest = JsonDocument.Parse(stored.Bytes);
        Assert.Equal(DockerManifest, manifest.RootElement.GetProperty("mediaType").GetString());
        var storedConfig = manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
        var storedLayers = manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!).ToList();
        Assert.Equal(image.Config.Digest, storedConfig);
        Assert.Equal(image.Layers.Select(l => l.Digest), storedLayers);
        Assert.NotEqual(image.Manifest.Digest, stored.Digest);

        // dir: keeps the manifest exactly as served, so it can be compared with the proxy's bytes.
        var pulled = fixture.Work.Combine("v2s2-pulled");
        await Skopeo.PullAsync(fixture.Cluster.Agents[0].HostPort, "e2e/schema2:v1", $"dir:{pulled}");

        Assert.Equal(stored.Bytes, await File.ReadAllBytesAsync(Path.Combine(pulled, "manifest.json")));
        foreach (var digest in storedLayers.Append(storedConfig))
        {
            var pulledBlob = await File.ReadAllBytesAsync(Path.Combine(pulled, digest["sha256:".Length..]));
            Assert.Equal(await Registry.GetBlobAsync(fixture.Cluster.Proxy.Url, "e2e/schema2", digest), pulledBlob);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, "blobs", "sha256", digest["sha256:".Length..])), pulledBlob);
        }

        // And as an OCI layout (skopeo converts the manifest back): layers and config unchanged.
        var pulledOci = fixture.Work.Combine("v2s2-pulled-oci");
        await Skopeo.PullAsync(fixture.Cluster.Agents[1].HostPort, "e2e/schema2:v1", $"oci:{pulledOci}:v1");
        var ociBlobs = OciLayoutReader.VerifiedBlobs(pulledOci);
        Assert.All(storedLayers.Append(storedConfig), digest => Assert.Contains(digest, ociBlobs.Keys));
    }

    [E2EFact(ToolCheck.Skopeo)]
    public async Task Copy_MultiArchIndex_PullsEveryPlatformAndEachArchitectureByteIdentical()
    {
        var source = fixture.Work.CreateSubdirectory("multi-src");
        var index = new OciImageBuilder(source).AddIndex(
            "v1",
            new OciImageSpec { Platform = OciPlatform.LinuxAmd64, LayerSizes = [256 * 1024, 512 * 1024] },
            new OciImageSpec { Platform = OciPlatform.LinuxArm64, LayerSizes = [384 * 1024] });

        await Skopeo.PushAsync(source, "v1", fixture.Cluster.Proxy.HostPort, "e2e/multi:v1", "--all");

        var all = fixture.Work.Combine("multi-all");
        await Skopeo.PullAsync(fixture.Cluster.Agents[0].HostPort, "e2e/multi:v1", $"oci:{all}:v1", "--all");
        Assert.Equal(index.Index.Digest, OciLayoutReader.Resolve(all, "v1").Digest);
        AssertSameBlobs(source, index.BlobDigests, all);

        var arm64 = fixture.Work.Combine("multi-arm64");
        await Skopeo.PullAsync(fixture.Cluster.Agents[1].HostPort, "e2e/multi:v1", $"oci:{arm64}:v1", "--override-arch", "arm64");
        var arm64Image = index.For("arm64");
        Assert.Equal(arm64Image.Manifest.Digest, OciLayoutReader.Resolve(arm64, "v1").Digest);
        AssertSameBlobs(source, arm64Image.BlobDigests, arm64);

        var amd64 = fixture.Work.Combine("multi-amd64");
        await Skopeo.PullAsync(fixture.Cluster.Agents[1].HostPort, $"e2e/multi@{index.For("amd64").Manifest.Digest}", $"oci:{amd64}:v1");
        AssertSameBlobs(source, index.For("amd64").BlobDigests, amd64);
    }

    /// <summary>The pulled layout holds exactly <paramref name="expected"/>, each file byte-identical to the source's.</summary>
    private static void AssertSameBlobs(string sourceLayout, IReadOnlyList<string> expected, string pulledLayout)
    {
        var pulled = OciLayoutReader.VerifiedBlobs(pulledLayout);
        Assert.Equal(expected.Order(StringComparer.Ordinal), pulled.Keys.Order(StringComparer.Ordinal));
        foreach (var digest in expected)
        {
            Assert.Equal(
                File.ReadAllBytes(Path.Combine(sourceLayout, "blobs", "sha256", digest["sha256:".Length..])),
                File.ReadAllBytes(pulled[digest]));
        }
    }
}
