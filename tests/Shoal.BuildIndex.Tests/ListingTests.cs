using System.Net;
using Shoal.Clients.BuildIndex;

namespace Shoal.BuildIndex.Tests;

public sealed class ListingTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private BuildIndexHost _host = null!;

    public async Task InitializeAsync() => _host = await BuildIndexHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task ListTags_SevenTagsInPagesOfThree_WalksThemInOrderWithMore()
    {
        string[] tags = ["v7", "v1", "latest", "V2", "v1.1", "stable", "_build"];
        foreach (var tag in tags)
        {
            await _host.Client.PutTagAsync("app", tag, BuildIndexHost.DigestOf(tag), Ct);
        }
        var expected = tags.Order(StringComparer.Ordinal).ToArray(); // V2, _build, latest, stable, v1, v1.1, v7

        var first = await _host.Client.ListTagsAsync("app", 3, null, Ct);
        var second = await _host.Client.ListTagsAsync("app", 3, first!.Items[^1], Ct);
        var third = await _host.Client.ListTagsAsync("app", 3, second!.Items[^1], Ct);

        Assert.Equal(expected[..3], first.Items);
        Assert.True(first.More);
        Assert.Equal(expected[3..6], second.Items);
        Assert.True(second.More);
        Assert.Equal(expected[6..], third!.Items);
        Assert.False(third.More);
    }

    [Fact]
    public async Task ListTags_PageEndingExactlyAtTheLastTag_HasNoMore()
    {
        foreach (var tag in new[] { "a", "b", "c", "d", "e", "f" })
        {
            await _host.Client.PutTagAsync("app", tag, BuildIndexHost.DigestOf(tag), Ct);
        }

        var page = await _host.Client.ListTagsAsync("app", 3, "c", Ct);

        Assert.Equal(["d", "e", "f"], page!.Items);
        Assert.False(page.More);
    }

    [Fact]
    public async Task ListTags_WithoutN_ReturnsEveryTagSorted()
    {
        foreach (var tag in new[] { "c", "a", "e", "b", "d" })
        {
            await _host.Client.PutTagAsync("app", tag, BuildIndexHost.DigestOf(tag), Ct);
        }

        var page = await _host.Client.ListTagsAsync("app", null, null, Ct);

        Assert.Equal(["a", "b", "c", "d", "e"], page!.Items);
        Assert.False(page.More);
    }

    [Fact]
    public async Task ListTags_LastBetweenTags_StartsAfterIt()
    {
        foreach (var tag in new[] { "a", "c", "e", "g", "i" })
        {
            await _host.Client.PutTagAsync("app", tag, BuildIndexHost.DigestOf(tag), Ct);
        }

        var page = await _host.Client.ListTagsAsync("app", 2, "d", Ct);

        Assert.Equal(["e", "g"], page!.Items);
        Assert.True(page.More);
    }

    [Fact]
    public async Task ListTags_NZero_ReturnsAnEmptyPage()
    {
        await _host.Client.PutTagAsync("app", "latest", BuildIndexHost.DigestOf("x"), Ct);

        var page = await _host.Client.ListTagsAsync("app", 0, null, Ct);

        Assert.Empty(page!.Items);
    }

    [Theory]
    [InlineData("n=-1")]
    [InlineData("n=abc")]
    [InlineData("n=1.5")]
    [InlineData("n=99999999999")]
    [InlineData("n=")]
    [InlineData("n=1&n=2")]
    public async Task ListTags_InvalidN_Returns400(string query)
    {
        await _host.Client.PutTagAsync("app", "latest", BuildIndexHost.DigestOf("x"), Ct);

        using var tags = await _host.Http.GetAsync("v1/repositories/app/_tags?" + query, Ct);
        using var catalog = await _host.Http.GetAsync("v1/repositories?" + query, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, tags.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, catalog.StatusCode);
    }

    [Fact]
    public async Task ListTags_UnknownRepository_ReturnsNull()
    {
        await _host.Client.PutTagAsync("known", "latest", BuildIndexHost.DigestOf("x"), Ct);

        Assert.Null(await _host.Client.ListTagsAsync("unknown", null, null, Ct));
    }

    [Fact]
    public async Task ListTags_RepositoryWithOnlyBlobLinks_IsUnknown()
    {
        await _host.Client.PutBlobLinkAsync("app", BuildIndexHost.DigestOf("layer"), Ct);

        Assert.Null(await _host.Client.ListTagsAsync("app", null, null, Ct));
    }

    [Fact]
    public async Task ListTags_RepositoryWithOnlyAManifest_ReturnsAnEmptyPage()
    {
        await _host.Client.PutManifestAsync("app", BuildIndexHost.DigestOf("m"), new ManifestRecord("application/vnd.oci.image.manifest.v1+json", 100), Ct);

        var page = await _host.Client.ListTagsAsync("app", null, null, Ct);

        Assert.NotNull(page);
        Assert.Empty(page.Items);
        Assert.False(page.More);
    }

    [Fact]
    public async Task ListRepositories_ListsRepositoriesWithTagsOrManifestsSorted()
    {
        await _host.Client.PutTagAsync("library/nginx", "latest", BuildIndexHost.DigestOf("1"), Ct);
        await _host.Client.PutTagAsync("library", "latest", BuildIndexHost.DigestOf("2"), Ct);
        await _host.Client.PutTagAsync("library-extra", "latest", BuildIndexHost.DigestOf("3"), Ct);
        await _host.Client.PutManifestAsync("a/b/c", BuildIndexHost.DigestOf("4"), new ManifestRecord("application/vnd.oci.image.index.v1+json", 10), Ct);
        await _host.Client.PutBlobLinkAsync("blobs-only", BuildIndexHost.DigestOf("5"), Ct);
        await _host.Client.PutTagAsync("deleted", "latest", BuildIndexHost.DigestOf("6"), Ct);
        await _host.Client.DeleteTagAsync("deleted", "latest", Ct);

        var page = await _host.Client.ListRepositoriesAsync(null, null, Ct);

        Assert.Equal(["a/b/c", "library", "library-extra", "library/nginx"], page.Items);
        Assert.False(page.More);
    }

    [Fact]
    public async Task ListRepositories_InPagesOfTwo_WalksEveryRepositoryOnce()
    {
        string[] names = ["e", "a/x", "c", "b", "d"];
        foreach (var name in names)
        {
            await _host.Client.PutTagAsync(name, "latest", BuildIndexHost.DigestOf(name), Ct);
        }

        var seen = new List<string>();
        string? last = null;
        ListPage page;
        do
        {
            page = await _host.Client.ListRepositoriesAsync(2, last, Ct);
            Assert.True(page.Items.Count <= 2);
            seen.AddRange(page.Items);
            last = page.Items.Count > 0 ? page.Items[^1] : last;
        }
        while (page.More);

        Assert.Equal(["a/x", "b", "c", "d", "e"], seen);
    }

    [Fact]
    public async Task ListRepositories_Empty_ReturnsAnEmptyPage()
    {
        var page = await _host.Client.ListRepositoriesAsync(null, null, Ct);

        Assert.Empty(page.Items);
        Assert.False(page.More);
    }
}
