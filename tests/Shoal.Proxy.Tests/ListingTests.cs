using System.Net;
using System.Text.Json;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Tests;

/// <summary>Tag lists and the catalog; each test has its own cluster so the catalog holds only its repositories.</summary>
public sealed class ListingTests : IAsyncLifetime
{
    private ProxyCluster _cluster = null!;

    private HttpClient Http => _cluster.Http;

    public async Task InitializeAsync() => _cluster = await ProxyCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task TagsList_WithoutN_ReturnsAllTagsSortedWithoutLink()
    {
        var repo = "library/app";
        var image = await _cluster.PushImageAsync(repo, "v2");
        foreach (var tag in new[] { "latest", "v1", "V0", "a_b" })
        {
            await _cluster.PushManifestAsync(repo, tag, image.Manifest, image.MediaType);
        }

        using var response = await Http.GetAsync($"/v2/{repo}/tags/list");

        await RegistryAssert.StatusAsync(response, HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var (name, tags) = await ReadTagsAsync(response);
        Assert.Equal(repo, name);
        Assert.Equal(new[] { "V0", "a_b", "latest", "v1", "v2" }, tags);
        Assert.False(response.Headers.Contains("Link"));
    }

    [Fact]
    public async Task TagsList_WithN_PaginatesWithLinkHeaders()
    {
        var repo = "team/paged";
        var image = await _cluster.PushImageAsync(repo, "t0");
        foreach (var tag in new[] { "t1", "t2", "t3", "t4" })
        {
            await _cluster.PushManifestAsync(repo, tag, image.Manifest, image.MediaType);
        }

        var seen = new List<string>();
        var url = $"/v2/{repo}/tags/list?n=2";
        var links = new List<string>();
        while (true)
        {
            using var response = await Http.GetAsync(url);
            await RegistryAssert.StatusAsync(response, HttpStatusCode.OK);
            var (_, tags) = await ReadTagsAsync(response);
            Assert.True(tags.Length <= 2);
            seen.AddRange(tags);
            if (!response.Headers.TryGetValues("Link", out var link))
            {
                break;
            }
            var value = Assert.Single(link);
            links.Add(value);
            url = value[1..value.IndexOf('>', StringComparison.Ordinal)];
            Assert.True(links.Count < 10, "pagination does not end");
        }

        Assert.Equal(new[] { "t0", "t1", "t2", "t3", "t4" }, seen);
        Assert.Equal($"</v2/{repo}/tags/list?last=t1&n=2>; rel=\"next\"", links[0]);
        Assert.Equal(2, links.Count);
    }

    [Fact]
    public async Task TagsList_WithLast_StartsAfterIt()
    {
        var repo = "team/after";
        var image = await _cluster.PushImageAsync(repo, "a");
        await _cluster.PushManifestAsync(repo, "b", image.Manifest, image.MediaType);
        await _cluster.PushManifestAsync(repo, "c", image.Manifest, image.MediaType);

        using var response = await Http.GetAsync($"/v2/{repo}/tags/list?last=a");

        Assert.Equal(new[] { "b", "c" }, (await ReadTagsAsync(response)).Tags);
    }

    [Fact]
    public async Task TagsList_UnknownRepository_Returns404NameUnknown()
    {
        using var response = await Http.GetAsync("/v2/nobody/here/tags/list");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.NAME_UNKNOWN);
    }

    [Fact]
    public async Task TagsList_RepositoryWithOnlyBlobs_Returns404NameUnknown()
    {
        await _cluster.PushBlobAsync("only/blobs", TestData.RandomBytes(10));

        using var response = await Http.GetAsync("/v2/only/blobs/tags/list");

        await RegistryAssert.ErrorAsync(response, HttpStatusCode.NotFound, RegistryErrorCode.NAME_UNKNOWN);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999")]
    public async Task TagsListAndCatalog_BadN_Returns400PaginationNumberInvalid(string n)
    {
        await _cluster.PushImageAsync("team/n", "v1");

        using var tags = await Http.GetAsync($"/v2/team/n/tags/list?n={n}");
        using var catalog = await Http.GetAsync($"/v2/_catalog?n={n}");

        await RegistryAssert.ErrorAsync(tags, HttpStatusCode.BadRequest, RegistryErrorCode.PAGINATION_NUMBER_INVALID);
        await RegistryAssert.ErrorAsync(catalog, HttpStatusCode.BadRequest, RegistryErrorCode.PAGINATION_NUMBER_INVALID);
    }

    [Fact]
    public async Task Catalog_ListsRepositoriesSortedAndPaginates()
    {
        foreach (var repo in new[] { "zeta/app", "alpha/app", "mid/one/two" })
        {
            await _cluster.PushImageAsync(repo, "v1");
        }
        await _cluster.PushBlobAsync("blobs/only", TestData.RandomBytes(5)); // no manifest: not in the catalog

        using var all = await Http.GetAsync("/v2/_catalog");
        await RegistryAssert.StatusAsync(all, HttpStatusCode.OK);
        Assert.Equal(new[] { "alpha/app", "mid/one/two", "zeta/app" }, await ReadRepositoriesAsync(all));
        Assert.False(all.Headers.Contains("Link"));

        using var first = await Http.GetAsync("/v2/_catalog?n=2");
        Assert.Equal(new[] { "alpha/app", "mid/one/two" }, await ReadRepositoriesAsync(first));
        var link = Assert.Single(first.Headers.GetValues("Link"));
        Assert.Equal("</v2/_catalog?last=mid%2Fone%2Ftwo&n=2>; rel=\"next\"", link);

        using var second = await Http.GetAsync(link[1..link.IndexOf('>', StringComparison.Ordinal)]);
        Assert.Equal(new[] { "zeta/app" }, await ReadRepositoriesAsync(second));
        Assert.False(second.Headers.Contains("Link"));
    }

    [Fact]
    public async Task Catalog_Empty_ReturnsEmptyList()
    {
        using var response = await Http.GetAsync("/v2/_catalog");

        await RegistryAssert.StatusAsync(response, HttpStatusCode.OK);
        Assert.Empty(await ReadRepositoriesAsync(response));
    }

    private static async Task<(string Name, string[] Tags)> ReadTagsAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (json.RootElement.GetProperty("name").GetString()!,
            json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());
    }

    private static async Task<string[]> ReadRepositoriesAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("repositories").EnumerateArray().Select(t => t.GetString()!).ToArray();
    }
}
