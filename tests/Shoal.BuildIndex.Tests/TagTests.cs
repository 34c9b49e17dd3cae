using System.Net;
using System.Net.Http.Json;
using System.Text;
using Shoal.Clients;

namespace Shoal.BuildIndex.Tests;

public sealed class TagTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private BuildIndexHost _host = null!;

    public async Task InitializeAsync() => _host = await BuildIndexHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task PutTag_ThenGet_ReturnsDigest()
    {
        var digest = BuildIndexHost.DigestOf("manifest");
        await _host.Client.PutTagAsync("library/nginx", "1.27", digest, Ct);

        Assert.Equal(digest, await _host.Client.GetTagAsync("library/nginx", "1.27", Ct));
    }

    [Fact]
    public async Task PutTag_DeeplyNestedRepository_IsSeparateFromItsParents()
    {
        var parent = BuildIndexHost.DigestOf("parent");
        var child = BuildIndexHost.DigestOf("child");
        await _host.Client.PutTagAsync("team/app", "latest", parent, Ct);
        await _host.Client.PutTagAsync("team/app/sidecar", "latest", child, Ct);

        Assert.Equal(parent, await _host.Client.GetTagAsync("team/app", "latest", Ct));
        Assert.Equal(child, await _host.Client.GetTagAsync("team/app/sidecar", "latest", Ct));
        Assert.Null(await _host.Client.GetTagAsync("team", "latest", Ct));
    }

    [Fact]
    public async Task PutTag_Again_MovesTheTag()
    {
        var first = BuildIndexHost.DigestOf("v1");
        var second = BuildIndexHost.DigestOf("v2");
        await _host.Client.PutTagAsync("app", "latest", first, Ct);
        await _host.Client.PutTagAsync("app", "latest", second, Ct);

        Assert.Equal(second, await _host.Client.GetTagAsync("app", "latest", Ct));
    }

    [Fact]
    public async Task PutTag_ConcurrentWritersOfOneTag_LastWriteWinsAndNoTempFileRemains()
    {
        var digests = Enumerable.Range(0, 24).Select(i => BuildIndexHost.DigestOf("revision " + i)).ToArray();

        await Task.WhenAll(digests.Select(d => _host.Client.PutTagAsync("app", "latest", d, Ct)));

        var final = await _host.Client.GetTagAsync("app", "latest", Ct);
        Assert.Contains(final!.Value, digests);
        var tagFiles = Directory.GetFiles(Path.Combine(_host.DataDir, "repositories", "app", "_tags"));
        Assert.Equal("latest", Path.GetFileName(Assert.Single(tagFiles)));
    }

    [Fact]
    public async Task GetTag_Unknown_ReturnsNull()
    {
        Assert.Null(await _host.Client.GetTagAsync("app", "missing", Ct));
        await _host.Client.PutTagAsync("app", "present", BuildIndexHost.DigestOf("x"), Ct);
        Assert.Null(await _host.Client.GetTagAsync("app", "missing", Ct));
    }

    [Fact]
    public async Task DeleteTag_Existing_RemovesItAndReportsTrue()
    {
        await _host.Client.PutTagAsync("app", "old", BuildIndexHost.DigestOf("x"), Ct);

        Assert.True(await _host.Client.DeleteTagAsync("app", "old", Ct));
        Assert.Null(await _host.Client.GetTagAsync("app", "old", Ct));
        Assert.False(await _host.Client.DeleteTagAsync("app", "old", Ct));
    }

    [Fact]
    public async Task GetTag_TagNamedTags_IsReadWhileTheListOfARepositoryEndingInTagsStaysReachable()
    {
        // A tag called "tags" and a repository whose name ends in "tags" must not shadow each other.
        var digest = BuildIndexHost.DigestOf("tags");
        await _host.Client.PutTagAsync("app", "tags", digest, Ct);
        await _host.Client.PutTagAsync("app/tags", "v1", BuildIndexHost.DigestOf("v1"), Ct);
        await _host.Client.PutTagAsync("other/tags", "v2", BuildIndexHost.DigestOf("v2"), Ct);

        Assert.Equal(digest, await _host.Client.GetTagAsync("app", "tags", Ct));
        var list = await _host.Client.ListTagsAsync("other/tags", null, null, Ct);
        Assert.Equal(["v2"], list!.Items);
        Assert.True(await _host.Client.DeleteTagAsync("app", "tags", Ct));
        Assert.Equal(["v1"], (await _host.Client.ListTagsAsync("app/tags", null, null, Ct))!.Items);
    }

    [Theory]
    [InlineData("{\"digest\":\"sha256:abc\"}")]
    [InlineData("{\"digest\":\"md5:d41d8cd98f00b204e9800998ecf8427e\"}")]
    [InlineData("{}")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("null")]
    public async Task PutTag_InvalidBody_Returns400AndWritesNothing(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _host.Http.PutAsync("v1/repositories/app/tags/latest", content, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(await _host.Client.GetTagAsync("app", "latest", Ct));
    }

    [Fact]
    public async Task PutTag_OversizedBody_Returns413()
    {
        var digest = BuildIndexHost.DigestOf("x").ToString();
        var padding = new string(' ', 200_000);
        using var content = new StringContent("{\"digest\":\"" + digest + "\"" + padding + "}", Encoding.UTF8, "application/json");
        using var response = await _host.Http.PutAsync("v1/repositories/app/tags/latest", content, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Null(await _host.Client.GetTagAsync("app", "latest", Ct));
    }

    [Fact]
    public async Task PutTag_ThroughClientWithBadServerAnswer_SurfacesProblemDetail()
    {
        var ex = await Assert.ThrowsAsync<ServiceException>(() => _host.Client.PutTagAsync("App", "latest", BuildIndexHost.DigestOf("x"), Ct));

        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Contains("invalid repository name", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTag_AnswerBody_IsTheDigestRecord()
    {
        var digest = BuildIndexHost.DigestOf("x");
        await _host.Client.PutTagAsync("app", "latest", digest, Ct);

        var record = await _host.Http.GetFromJsonAsync<Dictionary<string, string>>("v1/repositories/app/tags/latest", Ct);

        Assert.Equal(digest.ToString(), record!["digest"]);
    }
}
