using System.Net;
using Shoal.Core.Registry;
using Shoal.TestKit;

namespace Shoal.Proxy.Tests;

/// <summary>A real registry client (skopeo) pushing to and pulling from the proxy.</summary>
public sealed class SkopeoTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("shoal-skopeo");
    private ProxyCluster _cluster = null!;

    private string HostPort => _cluster.Http.BaseAddress!.Authority;

    public async Task InitializeAsync() => _cluster = await ProxyCluster.StartAsync();

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _dir.Dispose();
    }

    [E2EFact(ToolCheck.Skopeo)]
    public async Task PushAndPull_SingleImage_RoundTripsByteForByte()
    {
        var layout = new OciImageBuilder(_dir.CreateSubdirectory("src"), seed: 1);
        var image = layout.AddImage("v1", new OciImageSpec { LayerSizes = [300 * 1024, 5 * 1024 * 1024] });

        await Skopeo.PushAsync(layout.LayoutDirectory, "v1", HostPort, "demo/app:v1", "--preserve-digests");

        using var manifest = await _cluster.Http.GetAsync("/v2/demo/app/manifests/v1");
        await RegistryAssert.StatusAsync(manifest, HttpStatusCode.OK);
        Assert.Equal(image.Manifest.Digest, RegistryAssert.Header(manifest, "Docker-Content-Digest"));
        Assert.Equal(MediaTypes.OciManifest, manifest.Content.Headers.ContentType!.MediaType);

        var pulled = _dir.CreateSubdirectory("pulled");
        await Skopeo.PullAsync(HostPort, "demo/app:v1", $"dir:{pulled}", "--preserve-digests");
        foreach (var blob in image.Layers.Append(image.Config))
        {
            Assert.Equal(await File.ReadAllBytesAsync(layout.BlobPath(blob.Digest)), await File.ReadAllBytesAsync(Path.Combine(pulled, blob.Hex)));
        }
    }

    [E2EFact(ToolCheck.Skopeo)]
    public async Task PushAndPull_MultiPlatformIndex_AndCopyToAnotherRepository()
    {
        var layout = new OciImageBuilder(_dir.CreateSubdirectory("src"), seed: 2);
        var index = layout.AddIndex("multi",
            new OciImageSpec { Platform = OciPlatform.LinuxAmd64 },
            new OciImageSpec { Platform = OciPlatform.LinuxArm64 });

        await Skopeo.PushAsync(layout.LayoutDirectory, "multi", HostPort, "demo/multi:v1", "--all", "--preserve-digests");
        // Registry to registry: skopeo mounts the blobs from demo/multi into copy/multi.
        await Skopeo.CopyAsync("--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
            $"docker://{HostPort}/demo/multi:v1", $"docker://{HostPort}/copy/multi:v2");

        foreach (var reference in new[] { "demo/multi/manifests/v1", "copy/multi/manifests/v2" })
        {
            using var response = await _cluster.Http.GetAsync("/v2/" + reference);
            await RegistryAssert.StatusAsync(response, HttpStatusCode.OK);
            Assert.Equal(index.Index.Digest, RegistryAssert.Header(response, "Docker-Content-Digest"));
            Assert.Equal(MediaTypes.OciIndex, response.Content.Headers.ContentType!.MediaType);
        }
        var pulled = _dir.CreateSubdirectory("pulled");
        await Skopeo.PullAsync(HostPort, "copy/multi:v2", $"oci:{pulled}:v2", "--all", "--preserve-digests");
        foreach (var digest in index.BlobDigests)
        {
            Assert.True(File.Exists(Path.Combine(pulled, "blobs", "sha256", digest[7..])), $"{digest} was not pulled");
        }
    }
}
