using System.Net;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Storage.Registry;
using Shoal.TestKit;

namespace Shoal.Storage.Tests.Registry;

/// <summary>One anonymous registry (delete enabled) shared by the tests of a class; each test uses its own repository.</summary>
public sealed class AnonymousRegistryFixture : IAsyncLifetime
{
    internal DockerRegistry Registry { get; private set; } = null!;

    public HttpClient Http { get; } = new();

    public Uri Url => Registry.Url;

    public async Task InitializeAsync() => Registry = await DockerRegistry.StartAsync();

    public Task DisposeAsync()
    {
        Http.Dispose();
        Registry?.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class RegistryBackendTests : IClassFixture<AnonymousRegistryFixture>
{
    private readonly AnonymousRegistryFixture _registry;

    public RegistryBackendTests(AnonymousRegistryFixture registry)
    {
        _registry = registry;
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Stat_PushedBlob_ReturnsSize()
    {
        var content = RegistryPush.RandomBytes(5000, 1);
        var digest = await RegistryPush.PushBlobAsync(_registry.Http, _registry.Url, "stat/app", content);
        using var backend = CreateBackend();

        var stat = await backend.Bind("stat/app").StatAsync(BackendNames.ForBlob(digest), default);

        Assert.NotNull(stat);
        Assert.Equal(5000, stat.Size);
        Assert.Equal(BackendNames.ForBlob(digest), stat.Name);
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Stat_MissingBlobOrRepository_ReturnsNull()
    {
        var content = RegistryPush.RandomBytes(100, 2);
        var digest = await RegistryPush.PushBlobAsync(_registry.Http, _registry.Url, "missing/app", content);
        using var backend = CreateBackend();

        Assert.Null(await backend.Bind("missing/app").StatAsync(BackendNames.ForBlob(Digest.Compute([1, 2, 3])), default));
        Assert.Null(await backend.Bind("missing/other").StatAsync(BackendNames.ForBlob(digest), default));
        Assert.Null(await backend.Bind("missing/app").OpenReadAsync(BackendNames.ForBlob(Digest.Compute([1, 2, 3])), 0, null, default));
        Assert.Null(await backend.Bind("missing/app").StatAsync("meta/not-a-blob", default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task OpenRead_WholeAndRanges_StreamsTheBytes()
    {
        var content = RegistryPush.RandomBytes(300_000, 3);
        var digest = await RegistryPush.PushBlobAsync(_registry.Http, _registry.Url, "read/app", content);
        using var backend = CreateBackend();
        var repo = backend.Bind("read/app");
        var name = BackendNames.ForBlob(digest);

        Assert.Equal(content, await ReadAllAsync(await repo.OpenReadAsync(name, 0, null, default)));
        Assert.Equal(content[1000..1100], await ReadAllAsync(await repo.OpenReadAsync(name, 1000, 100, default)));
        Assert.Equal(content[250_000..], await ReadAllAsync(await repo.OpenReadAsync(name, 250_000, null, default)));
        Assert.Equal(content[..10], await ReadAllAsync(await repo.OpenReadAsync(name, 0, 10, default)));
        Assert.Empty(await ReadAllAsync(await repo.OpenReadAsync(name, content.Length, null, default)));
        Assert.Empty(await ReadAllAsync(await repo.OpenReadAsync(name, 5, 0, default)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => repo.OpenReadAsync(name, content.Length + 1, null, default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => repo.OpenReadAsync(name, -1, null, default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Backend_InvalidNames_Rejected()
    {
        using var backend = CreateBackend();
        Assert.Throws<ArgumentException>(() => backend.Bind("Not/Valid"));
        Assert.Throws<ArgumentException>(() => backend.Bind(""));
        await Assert.ThrowsAsync<ArgumentException>(() => backend.Bind("ok/app").StatAsync("../etc/passwd", default));
        await Assert.ThrowsAsync<InvalidOperationException>(() => backend.StatAsync(BackendNames.ForBlob(Digest.Compute([1])), default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task ReadOnlyBackend_UploadDeleteList_NotSupported()
    {
        using var backend = CreateBackend();
        var repo = backend.Bind("readonly/app");
        var content = new byte[] { 1, 2, 3 };
        var name = BackendNames.ForBlob(Digest.Compute(content));

        var upload = await Assert.ThrowsAsync<NotSupportedException>(() => repo.UploadAsync(name, new MemoryStream(content), 3, default));
        Assert.Contains("writable", upload.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotSupportedException>(() => repo.DeleteAsync(name, default));
        var list = await Assert.ThrowsAsync<NotSupportedException>(() => repo.ListAsync("", null, 10, default));
        Assert.Contains("listing", list.Message, StringComparison.Ordinal);
        Assert.Null(await repo.StatAsync(name, default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Upload_Monolithic_ThenDownloadedAndVisibleToRegistry()
    {
        var content = RegistryPush.RandomBytes(100_000, 4);
        var name = BackendNames.ForBlob(Digest.Compute(content));
        using var backend = CreateBackend(writable: true);
        var repo = backend.Bind("upload/mono");

        await repo.UploadAsync(name, new MemoryStream(content), content.Length, default);

        Assert.Equal(content.Length, (await repo.StatAsync(name, default))!.Size);
        Assert.Equal(content, await ReadAllAsync(await repo.OpenReadAsync(name, 0, null, default)));
        Assert.Equal(content, await _registry.Http.GetByteArrayAsync(new Uri(_registry.Url, $"v2/upload/mono/blobs/{Digest.Compute(content)}")));
        // Uploading it again is a no-op that does not even read the content.
        await repo.UploadAsync(name, new ThrowingStream(), content.Length, default);
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Upload_LargerThanChunk_SentInChunks()
    {
        var content = RegistryPush.RandomBytes(3 * 65536 + 1234, 5);
        var name = BackendNames.ForBlob(Digest.Compute(content));
        using var backend = CreateBackend(writable: true, chunkSize: 65536);
        var repo = backend.Bind("upload/chunked");

        await repo.UploadAsync(name, new MemoryStream(content), content.Length, default);

        Assert.Equal(content, await ReadAllAsync(await repo.OpenReadAsync(name, 0, null, default)));
        Assert.Equal(content[70_000..140_000], await ReadAllAsync(await repo.OpenReadAsync(name, 70_000, 70_000, default)));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Upload_ContentShorterOrLonger_InvalidDataAndNothingStored()
    {
        var content = RegistryPush.RandomBytes(200_000, 6);
        var name = BackendNames.ForBlob(Digest.Compute(content));
        using var backend = CreateBackend(writable: true, chunkSize: 65536);
        var repo = backend.Bind("upload/wrongsize");

        await Assert.ThrowsAsync<InvalidDataException>(() => repo.UploadAsync(name, new MemoryStream(content[..150_000]), content.Length, default));
        Assert.Null(await repo.StatAsync(name, default));
        await Assert.ThrowsAsync<InvalidDataException>(() => repo.UploadAsync(name, new MemoryStream([.. content, 7]), content.Length, default));
        Assert.Null(await repo.StatAsync(name, default));
        var small = content[..1000];
        var smallName = BackendNames.ForBlob(Digest.Compute(small));
        await Assert.ThrowsAsync<InvalidDataException>(() => repo.UploadAsync(smallName, new MemoryStream([.. small, 1]), small.Length, default));
        Assert.Null(await repo.StatAsync(smallName, default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Upload_ContentNotMatchingDigest_DigestMismatch()
    {
        var content = RegistryPush.RandomBytes(5000, 7);
        var name = BackendNames.ForBlob(Digest.Compute([9, 9, 9]));
        using var backend = CreateBackend(writable: true);
        var repo = backend.Bind("upload/baddigest");

        await Assert.ThrowsAsync<DigestMismatchException>(() => repo.UploadAsync(name, new MemoryStream(content), content.Length, default));
        Assert.Null(await repo.StatAsync(name, default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Delete_Writable_RemovesBlob()
    {
        var content = RegistryPush.RandomBytes(1000, 8);
        var digest = await RegistryPush.PushBlobAsync(_registry.Http, _registry.Url, "delete/app", content);
        using var backend = CreateBackend(writable: true);
        var repo = backend.Bind("delete/app");

        Assert.True(await repo.DeleteAsync(BackendNames.ForBlob(digest), default));
        Assert.Null(await repo.StatAsync(BackendNames.ForBlob(digest), default));
        Assert.False(await repo.DeleteAsync(BackendNames.ForBlob(digest), default));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task TagSource_ResolveTagAndGetManifest_MatchPushedManifest()
    {
        var manifest = await RegistryPush.PushImageAsync(_registry.Http, _registry.Url, "tags/app", "v1", RegistryPush.RandomBytes(2000, 9));
        using var tags = new RegistryTagSource(new RegistryBackendOptions { Address = _registry.Url.ToString() });

        var resolved = await tags.ResolveTagAsync("tags/app", "v1");
        var fetched = await tags.GetManifestAsync("tags/app", "v1");
        var byDigest = await tags.GetManifestAsync("tags/app", Digest.Compute(manifest).ToString());

        Assert.Equal(new RegistryManifestInfo(Digest.Compute(manifest), MediaTypes.OciManifest, manifest.Length), resolved);
        Assert.NotNull(fetched);
        Assert.Equal(manifest, fetched.Content);
        Assert.Equal(Digest.Compute(manifest), fetched.Digest);
        Assert.Equal(MediaTypes.OciManifest, fetched.MediaType);
        Assert.Equal(manifest, byDigest!.Content);
        Assert.Null(await tags.ResolveTagAsync("tags/app", "nope"));
        Assert.Null(await tags.GetManifestAsync("tags/app", "nope"));
        Assert.Null(await tags.ResolveTagAsync("tags/unknown", "v1"));
        await Assert.ThrowsAsync<ArgumentException>(() => tags.ResolveTagAsync("tags/app", "bad tag"));
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task TagSource_ListTags_ReturnsEveryTag()
    {
        // distribution 2.8 ignores n/last and answers every tag unsorted; Link pagination is covered by RegistryFakeServerTests.
        var layer = RegistryPush.RandomBytes(100, 10);
        var manifest = await RegistryPush.PushImageAsync(_registry.Http, _registry.Url, "list/app", "a", layer);
        foreach (var tag in new[] { "b", "c", "d", "e" })
        {
            await RegistryPush.PushManifestAsync(_registry.Http, _registry.Url, "list/app", tag, manifest);
        }
        using var backend = CreateBackend();

        var page = await backend.Tags.ListTagsAsync("list/app");
        var all = new List<string>();
        await foreach (var tag in backend.Tags.ListAllTagsAsync("list/app"))
        {
            all.Add(tag);
        }

        Assert.Equal(["a", "b", "c", "d", "e"], page.Tags.Order(StringComparer.Ordinal));
        Assert.Null(page.Last);
        Assert.Equal(["a", "b", "c", "d", "e"], all.Order(StringComparer.Ordinal));
        Assert.Empty((await backend.Tags.ListTagsAsync("list/unknown")).Tags);
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task Router_RegistryRoute_BindsNamespace()
    {
        var content = RegistryPush.RandomBytes(777, 11);
        var digest = await RegistryPush.PushBlobAsync(_registry.Http, _registry.Url, "team/routed", content);
        var router = BackendRouter.Create([new BackendRouteOptions
        {
            Namespace = "team/.*",
            Backend = new BackendOptions { Type = "registry", Registry = new RegistryBackendOptions { Address = _registry.Url.ToString() } },
        }]);

        var backend = router.Resolve("team/routed");

        Assert.NotNull(backend);
        Assert.Equal(777, (await backend.StatAsync(BackendNames.ForBlob(digest), default))!.Size);
        Assert.Null(router.Resolve("other/routed"));
        foreach (var each in router.Backends)
        {
            (each as IDisposable)?.Dispose();
        }
    }

    internal static async Task<byte[]> ReadAllAsync(Stream? stream)
    {
        Assert.NotNull(stream);
        await using (stream)
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            return buffer.ToArray();
        }
    }

    private RegistryBackend CreateBackend(bool writable = false, long chunkSize = RegistryBackendOptions.DefaultChunkSize)
        => new(new RegistryBackendOptions { Address = _registry.Url.ToString(), Writable = writable, ChunkSize = chunkSize });

    private sealed class ThrowingStream : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("must not be read");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw new InvalidOperationException("must not be read");
    }
}
