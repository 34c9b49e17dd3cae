using System.Text;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Storage.Registry;
using Shoal.TestKit;

namespace Shoal.Storage.Tests.Registry;

/// <summary>
/// Manifest bytes by digest through the blob API of the registry backend: the registry keeps
/// manifests apart from blobs, so a 404 on <c>/blobs/</c> falls back to <c>/manifests/</c>.
/// </summary>
public sealed class RegistryManifestFallbackTests : IClassFixture<AnonymousRegistryFixture>, IClassFixture<HtpasswdRegistryFixture>
{
    private readonly AnonymousRegistryFixture _registry;
    private readonly HtpasswdRegistryFixture _basic;

    public RegistryManifestFallbackTests(AnonymousRegistryFixture registry, HtpasswdRegistryFixture basic)
    {
        _registry = registry;
        _basic = basic;
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task StatAndOpenRead_ManifestDigest_FallBackToManifestEndpoint()
    {
        var manifest = await RegistryPush.PushImageAsync(_registry.Http, _registry.Url, "fallback/app", "v1", RegistryPush.RandomBytes(3000, 31));
        var name = BackendNames.ForBlob(Digest.Compute(manifest));
        using var backend = new RegistryBackend(new RegistryBackendOptions { Address = _registry.Url.ToString() });
        var repo = backend.Bind("fallback/app");

        // The blob endpoint alone does not know the manifest (what makes the fallback necessary).
        using (var blob = await _registry.Http.GetAsync(new Uri(_registry.Url, $"v2/fallback/app/blobs/{Digest.Compute(manifest)}")))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, blob.StatusCode);
        }
        var stat = await repo.StatAsync(name, default);

        Assert.NotNull(stat);
        Assert.Equal(manifest.Length, stat.Size);
        Assert.Equal(manifest, await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, 0, null, default)));
        Assert.Equal(manifest[10..40], await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, 10, 30, default)));
        Assert.Empty(await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, manifest.Length, 0, default)));
        Assert.Null(await backend.Bind("fallback/other").StatAsync(name, default));
        Assert.Null(await backend.Bind("fallback/other").OpenReadAsync(name, 0, null, default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task OpenRead_ImageIndexDigest_ServedWithIndexMediaTypeAccepted()
    {
        var child = await RegistryPush.PushImageAsync(_registry.Http, _registry.Url, "fallback/multi", "amd64", RegistryPush.RandomBytes(1000, 32));
        var index = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciIndex + "\",\"manifests\":[{\"mediaType\":\"" + MediaTypes.OciManifest +
            "\",\"digest\":\"" + Digest.Compute(child) + "\",\"size\":" + child.Length + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}");
        using (var content = new ByteArrayContent(index))
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(MediaTypes.OciIndex);
            using var put = await _registry.Http.PutAsync(new Uri(_registry.Url, "v2/fallback/multi/manifests/latest"), content);
            Assert.Equal(System.Net.HttpStatusCode.Created, put.StatusCode);
        }
        using var backend = new RegistryBackend(new RegistryBackendOptions { Address = _registry.Url.ToString() });
        var repo = backend.Bind("fallback/multi");

        Assert.Equal(index, await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(BackendNames.ForBlob(Digest.Compute(index)), 0, null, default)));
        Assert.Equal(index.Length, (await repo.StatAsync(BackendNames.ForBlob(Digest.Compute(index)), default))!.Size);
    }

    [E2EFact(ToolCheck.DockerRegistry, ToolCheck.Htpasswd)]
    public async Task OpenRead_ManifestDigestWithBasicAuth_FallsBack()
    {
        using var writer = new RegistryBackend(new RegistryBackendOptions
        {
            Address = _basic.Url.ToString(),
            Username = HtpasswdRegistryFixture.User,
            Password = HtpasswdRegistryFixture.Password,
        });
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{HtpasswdRegistryFixture.User}:{HtpasswdRegistryFixture.Password}")));
        var manifest = await RegistryPush.PushImageAsync(http, _basic.Url, "fallback/basic", "v1", RegistryPush.RandomBytes(500, 33));
        var name = BackendNames.ForBlob(Digest.Compute(manifest));

        Assert.Equal(manifest.Length, (await writer.Bind("fallback/basic").StatAsync(name, default))!.Size);
        Assert.Equal(manifest, await RegistryBackendTests.ReadAllAsync(await writer.Bind("fallback/basic").OpenReadAsync(name, 0, null, default)));
    }
}
