using System.Net;
using System.Text;
using System.Text.Json;

namespace Shoal.BuildIndex.Tests;

public sealed class ValidationTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly string ValidDigest = BuildIndexHost.DigestOf("x").ToString();
    private BuildIndexHost _host = null!;

    public async Task InitializeAsync() => _host = await BuildIndexHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string> InvalidNames() => new()
    {
        "Library/nginx",
        "a..b",
        "..a",
        ".hidden",
        "a/.hidden",
        "a//b",
        "_tags",
        "a/_manifests",
        "-a",
        "a-",
        "..%2Fetc",
        "a%2F..%2F..%2Fetc",
        "a%20b",
        new string('a', 256),
        string.Join('/', Enumerable.Repeat("abcdefg", 32)) + "h", // valid components, 256 characters
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task AnyResource_InvalidRepositoryName_Returns400NamingTheProblem(string name)
    {
        foreach (var (method, path, body) in Requests(name))
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }
            using var response = await _host.Http.SendAsync(request, Ct);

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path} answered {(int)response.StatusCode}");
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            Assert.Contains("repository name", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Empty((await _host.Client.ListRepositoriesAsync(null, null, Ct)).Items);
        AssertNoRecordWritten();
    }

    [Fact]
    public async Task AnyResource_NameOfExactly255Characters_IsAccepted()
    {
        var name = string.Join('/', Enumerable.Repeat("abcdefg", 31)) + "/" + new string('z', 7);
        Assert.Equal(255, name.Length);

        await _host.Client.PutTagAsync(name, "latest", BuildIndexHost.DigestOf("x"), Ct);

        Assert.Equal([name], (await _host.Client.ListRepositoriesAsync(null, null, Ct)).Items);
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")]
    [InlineData("latest")]
    [InlineData("sha256")]
    public async Task ManifestAndBlob_InvalidDigest_Returns400(string digest)
    {
        foreach (var kind in new[] { "manifests", "blobs" })
        {
            var path = $"v1/repositories/app/{kind}/{digest}";
            using var put = await _host.Http.PutAsync(path, new StringContent("{\"mediaType\":\"application/json\",\"size\":1}", Encoding.UTF8, "application/json"), Ct);
            using var get = await _host.Http.GetAsync(path, Ct);
            using var delete = await _host.Http.DeleteAsync(path, Ct);

            Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, delete.StatusCode);
            Assert.Contains("digest", await put.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        AssertNoRecordWritten();
    }

    public static TheoryData<string> InvalidTags() => new()
    {
        ".hidden",
        "-dash",
        "a%2Fb",
        "with%20space",
        "caf%C3%A9",
        new string('t', 129),
    };

    [Theory]
    [MemberData(nameof(InvalidTags))]
    public async Task Tag_InvalidTag_Returns400(string tag)
    {
        var path = $"v1/repositories/app/tags/{tag}";
        using var put = await _host.Http.PutAsync(path, new StringContent($"{{\"digest\":\"{ValidDigest}\"}}", Encoding.UTF8, "application/json"), Ct);
        using var get = await _host.Http.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
        Assert.Contains("invalid tag", await put.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        AssertNoRecordWritten();
    }

    [Theory]
    [InlineData("v1/repositories/app")]
    [InlineData("v1/repositories/app/latest")]
    [InlineData("v1/repositories/app/uploads/x")]
    public async Task Get_PathThatIsNoResource_Returns404(string path)
    {
        using var response = await _host.Http.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task TagList_WrongMethod_Returns405()
    {
        using var response = await _host.Http.PutAsync("v1/repositories/app/_tags", new StringContent("{}"), Ct);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    private static IEnumerable<(HttpMethod Method, string Path, string? Body)> Requests(string name)
    {
        var digest = ValidDigest;
        yield return (HttpMethod.Put, $"v1/repositories/{name}/tags/latest", $"{{\"digest\":\"{digest}\"}}");
        yield return (HttpMethod.Get, $"v1/repositories/{name}/tags/latest", null);
        yield return (HttpMethod.Delete, $"v1/repositories/{name}/tags/latest", null);
        yield return (HttpMethod.Get, $"v1/repositories/{name}/_tags", null);
        yield return (HttpMethod.Put, $"v1/repositories/{name}/manifests/{digest}", "{\"mediaType\":\"application/json\",\"size\":1}");
        yield return (HttpMethod.Get, $"v1/repositories/{name}/manifests/{digest}", null);
        yield return (HttpMethod.Delete, $"v1/repositories/{name}/manifests/{digest}", null);
        yield return (HttpMethod.Put, $"v1/repositories/{name}/blobs/{digest}", null);
        yield return (HttpMethod.Get, $"v1/repositories/{name}/blobs/{digest}", null);
        yield return (HttpMethod.Delete, $"v1/repositories/{name}/blobs/{digest}", null);
    }

    private void AssertNoRecordWritten()
    {
        var written = Directory.EnumerateFileSystemEntries(_host.Root, "*", SearchOption.AllDirectories)
            .Where(p => p != _host.DataDir && p != Path.Combine(_host.DataDir, "repositories"))
            .ToArray();
        Assert.Empty(written);
    }
}
