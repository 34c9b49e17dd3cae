using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>
/// A private containerd pulls through an agent configured as its mirror in <c>hosts.toml</c>; the
/// registry named in the image reference does not exist, so the image can only have come through
/// Shoal. Every blob in containerd's content store must be byte-identical to what skopeo pushed.
/// </summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "E2E")]
public sealed class ContainerdTests(ClusterFixture fixture)
{
    /// <summary>A registry that cannot be reached: containerd's fallback after the mirror must never be needed.</summary>
    private const string Upstream = "shoal-upstream.invalid:5999";

    [E2EFact(ToolCheck.Skopeo, ToolCheck.Containerd, ToolCheck.Ctr, ToolCheck.Root)]
    public async Task Pull_SingleArchImageThroughAgentMirror_ContentStoreByteIdentical()
    {
        var source = fixture.Work.CreateSubdirectory("ctd-single-src");
        var image = new OciImageBuilder(source).AddImage("v1", new OciImageSpec { LayerSizes = [512 * 1024, 128 * 1024] });
        await Skopeo.PushAsync(source, "v1", fixture.Cluster.Proxy.HostPort, "e2e/containerd:v1");

        using var containerd = await ContainerdDaemon.StartAsync();
        containerd.ConfigureMirror(Upstream, $"http://{Upstream}", fixture.Cluster.Agents[0].Url.AbsoluteUri.TrimEnd('/'));

        await containerd.PullAsync($"{Upstream}/e2e/containerd:v1");

        var images = await containerd.CtrAsync("images", "ls", "--quiet");
        Assert.Contains($"{Upstream}/e2e/containerd:v1", images.StandardOutput, StringComparison.Ordinal);
        AssertContentMatches(containerd, source, image.BlobDigests);
    }

    [E2EFact(ToolCheck.Skopeo, ToolCheck.Containerd, ToolCheck.Ctr, ToolCheck.Root)]
    public async Task Pull_MultiArchIndexThroughAgentMirror_FetchesRequestedPlatformOnly()
    {
        var source = fixture.Work.CreateSubdirectory("ctd-multi-src");
        var index = new OciImageBuilder(source).AddIndex(
            "v1",
            new OciImageSpec { Platform = OciPlatform.LinuxAmd64, LayerSizes = [256 * 1024] },
            new OciImageSpec { Platform = OciPlatform.LinuxArm64, LayerSizes = [320 * 1024] });
        await Skopeo.PushAsync(source, "v1", fixture.Cluster.Proxy.HostPort, "e2e/containerd-multi:v1", "--all");

        using var containerd = await ContainerdDaemon.StartAsync();
        containerd.ConfigureMirror(Upstream, $"http://{Upstream}", fixture.Cluster.Agents[1].Url.AbsoluteUri.TrimEnd('/'));

        await containerd.PullAsync($"{Upstream}/e2e/containerd-multi:v1", "--platform", "linux/arm64");

        var arm64 = index.For("arm64");
        AssertContentMatches(containerd, source, [index.Index.Digest, .. arm64.BlobDigests]);
        Assert.All(index.For("amd64").Layers, layer => Assert.Null(containerd.ContentPath(layer.Digest)));
    }

    private static void AssertContentMatches(ContainerdDaemon containerd, string sourceLayout, IEnumerable<string> digests)
    {
        foreach (var digest in digests)
        {
            var path = containerd.ContentPath(digest);
            Assert.True(path is not null, $"{digest} is not in containerd's content store (it has: {string.Join(", ", containerd.ContentDigests())})");
            Assert.Equal(
                File.ReadAllBytes(Path.Combine(sourceLayout, "blobs", "sha256", digest["sha256:".Length..])),
                File.ReadAllBytes(path));
        }
    }
}
