using Shoal.TestKit;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Storage;

namespace Shoal.Origin.Tests;

/// <summary>Namespace rules pick the backend of every fetch and write-back.</summary>
public sealed class RoutingTests : IDisposable
{
    private readonly TempDirectory _dirs = new();

    private string TeamRoot => Path.Combine(_dirs.Path, "team");

    private string DefaultRoot => Path.Combine(_dirs.Path, "default");

    public void Dispose() => _dirs.Dispose();

    [Fact]
    public async Task Put_RulesSendNamespacesToDifferentBackends()
    {
        await using var origin = await OriginHost.StartAsync(o =>
        {
            o.Backends =
            [
                new OriginBackendRouteOptions { Namespace = "team-a/.*", Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = TeamRoot } },
            ];
            o.Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = DefaultRoot }; // appended as the catch-all
        });
        var team = new FileSystemBackend(TeamRoot);
        var fallback = new FileSystemBackend(DefaultRoot);
        var (a, dataA) = OriginHost.RandomBlob(1000);
        var (b, dataB) = OriginHost.RandomBlob(2000);

        await origin.Client.UploadAsync(a, new MemoryStream(dataA), dataA.Length, "team-a/app", replicate: true, CancellationToken.None);
        await origin.Client.UploadAsync(b, new MemoryStream(dataB), dataB.Length, "library/redis", replicate: true, CancellationToken.None);
        await OriginHost.WaitUntilAsync(() => origin.IsPersisted(a) && origin.IsPersisted(b), "both are written back");

        Assert.NotNull(await team.StatAsync(BackendNames.ForBlob(a), CancellationToken.None));
        Assert.Null(await fallback.StatAsync(BackendNames.ForBlob(a), CancellationToken.None));
        Assert.NotNull(await fallback.StatAsync(BackendNames.ForBlob(b), CancellationToken.None));
        Assert.Null(await team.StatAsync(BackendNames.ForBlob(b), CancellationToken.None));
    }

    [Fact]
    public async Task Put_SameBlobToNamespacesOnTwoBackends_WrittenToBoth_AndNotEvictableUntilBothHaveIt()
    {
        var (team, fallback) = (new TestBackend(TeamRoot), new TestBackend(DefaultRoot));
        await using var origin = await StartWithTwoBackendsAsync(team, fallback, fallbackWritesThrough: false);
        var (digest, data) = OriginHost.RandomBlob(3000);
        var name = BackendNames.ForBlob(digest);

        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "team-a/app", replicate: true, CancellationToken.None);
        await OriginHost.WaitUntilAsync(() => origin.IsPersisted(digest), "the first namespace's write-back");
        Assert.NotNull(await team.Inner.StatAsync(name, CancellationToken.None));
        Assert.Null(await fallback.Inner.StatAsync(name, CancellationToken.None));

        // The same layer pushed to a namespace on the other backend, which is down for now: the blob
        // counts as not persisted again (never evicted, never dropped) until that backend has it.
        fallback.UploadFailure = new IOException("down");
        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "library/app", replicate: true, CancellationToken.None);
        Assert.False(origin.IsPersisted(digest));
        await OriginHost.WaitUntilAsync(() => fallback.UploadsStarted >= 2, "the second write-back is retried");
        Assert.False(origin.IsPersisted(digest));
        using (var refused = await origin.Http.DeleteAsync($"v1/blobs/{digest}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        }

        fallback.UploadFailure = null;
        await OriginHost.WaitUntilAsync(() => origin.IsPersisted(digest), "the second namespace's write-back");
        Assert.Equal(data.Length, (await fallback.Inner.StatAsync(name, CancellationToken.None))?.Size);
        Assert.Equal(1, team.Uploads);

        // A third push to a namespace of the first backend finds the blob there: nothing to write.
        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "team-a/other", replicate: true, CancellationToken.None);
        Assert.True(origin.IsPersisted(digest));
        Assert.Equal(1, team.Uploads);
    }

    [Fact]
    public async Task Mount_IntoANamespaceOnAnotherBackend_FetchesFromTheSourceAndWritesToTheTarget()
    {
        var (team, fallback) = (new TestBackend(TeamRoot), new TestBackend(DefaultRoot));
        await using var origin = await StartWithTwoBackendsAsync(team, fallback, fallbackWritesThrough: true);
        var (digest, data) = OriginHost.RandomBlob(2500);
        var name = BackendNames.ForBlob(digest);
        // Only in the source namespace's storage, not cached.
        await team.Inner.UploadAsync(name, new MemoryStream(data), data.Length, CancellationToken.None);

        Assert.True(await origin.Client.MountAsync(digest, "library/app", "team-a/app", CancellationToken.None));

        // The target namespace's rule writes through: its storage has the blob once the mount is answered.
        Assert.Equal(data.Length, (await fallback.Inner.StatAsync(name, CancellationToken.None))?.Size);
        Assert.True(origin.IsPersisted(digest));
        Assert.Equal(data, await origin.GetBytesAsync(digest));

        // Again: nothing more to write. A blob that is nowhere: false (the client uploads it).
        Assert.True(await origin.Client.MountAsync(digest, "library/app", "team-a/app", CancellationToken.None));
        Assert.Equal(1, fallback.Uploads);
        var (unknown, _) = OriginHost.RandomBlob(10);
        Assert.False(await origin.Client.MountAsync(unknown, "library/app", "team-a/app", CancellationToken.None));
        using var invalid = await origin.Http.PostAsync($"v1/blobs/{digest}/mount?namespace=library/app&from=Not..Valid", null);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }

    [Fact]
    public async Task Get_MissIsFetchedFromTheNamespacesBackendOnly()
    {
        await using var origin = await OriginHost.StartAsync(o => o.Backends =
        [
            new OriginBackendRouteOptions { Namespace = "team-a/.*", Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = TeamRoot } },
            new OriginBackendRouteOptions { Namespace = ".*", Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = DefaultRoot } },
        ]);
        var (digest, data) = OriginHost.RandomBlob(500);
        await new FileSystemBackend(TeamRoot).UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(data), data.Length, CancellationToken.None);

        Assert.Null(await origin.Client.OpenReadAsync(digest, "other/app", null, CancellationToken.None));
        await using var blob = await origin.Client.OpenReadAsync(digest, "team-a/app", null, CancellationToken.None);
        Assert.NotNull(blob);
    }

    [Fact]
    public async Task Put_NamespaceWithoutRule_StaysLocalAndCountsAsPersisted()
    {
        await using var origin = await OriginHost.StartAsync(o => o.Backends =
        [
            new OriginBackendRouteOptions { Namespace = "team-a/.*", Backend = new BackendOptions { Type = BackendOptions.FileSystem, Root = TeamRoot } },
        ]);
        var (digest, data) = OriginHost.RandomBlob(300);

        await origin.Client.UploadAsync(digest, new MemoryStream(data), data.Length, "elsewhere/app", replicate: true, CancellationToken.None);

        Assert.True(origin.IsPersisted(digest));
        Assert.Null(await new FileSystemBackend(TeamRoot).StatAsync(BackendNames.ForBlob(digest), CancellationToken.None));
        using var listing = await origin.Http.GetAsync("v1/writeback");
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        Assert.Contains("\"depth\":0", await listing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>An origin routing <c>team-a/*</c> to <paramref name="team"/> (write-back) and everything else to <paramref name="fallback"/>.</summary>
    private static Task<OriginHost> StartWithTwoBackendsAsync(TestBackend team, TestBackend fallback, bool fallbackWritesThrough)
        => OriginHost.StartAsync(OriginHost.FastRetries, b => b.Services.AddSingleton(new BackendRouter(
        [
            (new Regex("team-a/.*"), (IBlobBackend)team, false),
            (new Regex(".*"), (IBlobBackend)fallback, fallbackWritesThrough),
        ])));
}
