using System.Net;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Origin;
using Shoal.Storage;
using Shoal.TestKit;

namespace Shoal.Proxy.Tests;

/// <summary>
/// Pushes through a proxy whose origin writes through to a storage in the registry's layout: what a
/// push acknowledges is in the storage already, and a storage that cannot take a blob fails the
/// push with 503 UNAVAILABLE, nothing linked or tagged.
/// </summary>
public sealed class WriteThroughPushTests : IAsyncLifetime
{
    private readonly TempDirectory _storage = new("shoal-wt-storage");
    private ProxyCluster _cluster = null!;

    /// <summary>A file where the layout's directories go: every backend write fails until it is removed.</summary>
    private string Blocker => Path.Combine(_storage.Path, "docker");

    public async Task InitializeAsync()
        => _cluster = await ProxyCluster.StartAsync(configureOrigin: o =>
        {
            // layout: distribution writes through unless told otherwise; the queue's own retries wait an hour.
            o.Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = _storage.Path, Layout = BackendOptions.DistributionLayoutName };
            o.WriteBack.RetryMinDelay = TimeSpan.FromHours(1);
            o.WriteBack.RetryMaxDelay = TimeSpan.FromHours(1);
        });

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _storage.Dispose();
    }

    [Fact]
    public async Task PushBlob_StorageFails_503UnavailableNotLinked_RetrySucceedsAndTheBlobIsInTheStorage()
    {
        var repo = "team/app";
        var data = TestData.RandomBytes(5000);
        var digest = Digest.Compute(data);
        await File.WriteAllTextAsync(Blocker, "in the way");

        using (var refused = await _cluster.PostBlobAsync(repo, digest.ToString(), data))
        {
            var message = await RegistryAssert.ErrorAsync(refused, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
            Assert.Contains("backend write failed", message, StringComparison.Ordinal);
        }
        Assert.False(await _cluster.BuildIndex.HasBlobLinkAsync(repo, digest, CancellationToken.None));
        Assert.False(File.Exists(BlobData(digest)));

        File.Delete(Blocker);
        await _cluster.PushBlobAsync(repo, data);

        Assert.Equal(data, await File.ReadAllBytesAsync(BlobData(digest)));
        Assert.True(await _cluster.BuildIndex.HasBlobLinkAsync(repo, digest, CancellationToken.None));
    }

    [Fact]
    public async Task PushImage_EveryAcknowledgedBlobAndTheManifestAreInTheStorageBeforeTheTag()
    {
        var repo = "team/app";
        var config = TestData.Config();
        var layer = TestData.RandomBytes(3000);
        var configDigest = await _cluster.PushBlobAsync(repo, config);
        Assert.True(File.Exists(BlobData(configDigest))); // acknowledged → in the storage
        var layerDigest = await _cluster.PushBlobAsync(repo, layer);
        Assert.True(File.Exists(BlobData(layerDigest)));
        var manifest = TestData.ImageManifest(MediaTypes.OciManifest, (configDigest, config.Length), [(layerDigest, layer.Length)]);
        var manifestDigest = Digest.Compute(manifest);

        // The manifest bytes cannot be stored: no revision, no tag.
        var moved = Path.Combine(_storage.Path, "docker-moved");
        Directory.Move(Blocker, moved);
        await File.WriteAllTextAsync(Blocker, "in the way");
        using (var refused = await _cluster.PutManifestAsync(repo, "v1", manifest, MediaTypes.OciManifest))
        {
            await RegistryAssert.ErrorAsync(refused, HttpStatusCode.ServiceUnavailable, RegistryErrorCode.UNAVAILABLE);
        }
        Assert.Null(await _cluster.BuildIndex.GetTagAsync(repo, "v1", CancellationToken.None));
        Assert.Null(await _cluster.BuildIndex.GetManifestAsync(repo, manifestDigest, CancellationToken.None));

        File.Delete(Blocker);
        Directory.Move(moved, Blocker);
        await _cluster.PushManifestAsync(repo, "v1", manifest, MediaTypes.OciManifest);

        Assert.Equal(manifest, await File.ReadAllBytesAsync(BlobData(manifestDigest)));
        Assert.Equal(manifestDigest, await _cluster.BuildIndex.GetTagAsync(repo, "v1", CancellationToken.None));
    }

    private string BlobData(Digest digest)
    {
        var hex = digest.ToString()["sha256:".Length..];
        return Path.Combine(_storage.Path, "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }
}
