using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Shoal.Core;
using Shoal.Storage.Registry;

namespace Shoal.Storage.Tests;

public sealed class DistributionLayoutTests : IDisposable
{
    private static readonly Digest Blob = Digest.Compute("hello"u8);
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private readonly CancellationToken _ct;

    public DistributionLayoutTests() => _ct = _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void ToStored_BlobName_IsRegistryDataPath()
        => Assert.Equal($"docker/registry/v2/blobs/sha256/{Blob.Hex[..2]}/{Blob.Hex}/data", DistributionLayout.ToStored(BackendNames.ForBlob(Blob)));

    [Fact]
    public void ToStored_OtherName_UnderRegistryRoot()
        => Assert.Equal("docker/registry/v2/repositories/a/b/_manifests/tags/v1/current/link", DistributionLayout.ToStored("repositories/a/b/_manifests/tags/v1/current/link"));

    [Theory]
    [InlineData("blobs/sha256/xyz")]
    [InlineData("blobs/other")]
    [InlineData("blobs")]
    [InlineData("../etc/passwd")]
    [InlineData("repositories/../../x")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("a\\..\\b")]
    [InlineData("")]
    public void ToStored_BadOrForeignName_Throws(string name)
        => Assert.Throws<ArgumentException>(() => DistributionLayout.ToStored(name));

    [Theory]
    [InlineData("docker/registry/v2/blobs/sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824/data", "blobs/sha256/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    [InlineData("docker/registry/v2/repositories/x/_layers/sha256/ab/link", "repositories/x/_layers/sha256/ab/link")]
    public void TryFromStored_ShoalObjects_MapBack(string stored, string expected)
    {
        Assert.True(DistributionLayout.TryFromStored(stored, out var name));
        Assert.Equal(expected, name);
    }

    [Theory]
    [InlineData("docker/registry/v2/blobs/sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824/other")]
    [InlineData("docker/registry/v2/blobs/sha256/aa/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824/data")]
    [InlineData("docker/registry/v2/blobs/sha256/2c/2cf2/data")]
    [InlineData("docker/registry/v2/blobs/sha512/ab/abcd/data")]
    [InlineData("docker/registry/v2/")]
    [InlineData("elsewhere/file")]
    [InlineData("docker/registry/v2/../../x")]
    public void TryFromStored_ForeignObjects_Skipped(string stored)
        => Assert.False(DistributionLayout.TryFromStored(stored, out _));

    [Fact]
    public async Task Backend_Upload_LandsWhereRegistryReadsAndRoundTrips()
    {
        using var backend = Create();
        var data = RandomNumberGenerator.GetBytes(70_000);
        var digest = Digest.Compute(data);
        var name = BackendNames.ForBlob(digest);

        await backend.UploadAsync(name, new MemoryStream(data), data.Length, _ct);

        var file = Path.Combine(_dir.Path, "docker", "registry", "v2", "blobs", "sha256", digest.Hex[..2], digest.Hex, "data");
        Assert.Equal(data, await File.ReadAllBytesAsync(file, _ct));
        var stat = await backend.StatAsync(name, _ct);
        Assert.Equal(new BackendObject(name, data.Length, stat!.LastModified), stat);
        await using var stream = await backend.OpenReadAsync(name, 10, 5, _ct);
        var part = new byte[5];
        await stream!.ReadExactlyAsync(part, _ct);
        Assert.Equal(data[10..15], part);
        Assert.True(await backend.DeleteAsync(name, _ct));
        Assert.False(File.Exists(file));
        Assert.Null(await backend.StatAsync(name, _ct));
    }

    [Fact]
    public async Task Backend_RegistryWrittenBlob_ReadableByCanonicalName()
    {
        using var backend = Create();
        var directory = Path.Combine(_dir.Path, "docker", "registry", "v2", "blobs", "sha256", Blob.Hex[..2], Blob.Hex);
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "data"), "hello", _ct);

        await using var stream = await backend.OpenReadAsync(BackendNames.ForBlob(Blob), 0, null, _ct);
        using var reader = new StreamReader(stream!);
        Assert.Equal("hello", await reader.ReadToEndAsync(_ct));
    }

    [Fact]
    public async Task Backend_List_MapsBlobsBackSkipsRegistryFilesAndPages()
    {
        using var backend = Create();
        var digests = Enumerable.Range(0, 7).Select(i => Digest.Compute(BitConverter.GetBytes(i))).ToList();
        foreach (var digest in digests)
        {
            await backend.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream([1, 2]), 2, _ct);
        }
        await backend.UploadAsync("repositories/r/_layers/sha256/x/link", new MemoryStream([1]), 1, _ct);
        // What a registry keeps beside: upload sessions, a half-written blob directory.
        WriteRaw("docker/registry/v2/repositories/r/_uploads/u1/data");
        WriteRaw("docker/registry/v2/blobs/sha256/00/0000/data");
        WriteRaw("docker/registry/v2/blobs/sha256/ff/" + new string('f', 64) + "/startedat");
        WriteRaw("outside/file");

        var all = await ListAllAsync(backend, "", limit: 2);

        var expected = digests.Select(BackendNames.ForBlob)
            .Append("repositories/r/_layers/sha256/x/link")
            .Append("repositories/r/_uploads/u1/data")
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected, all);
        Assert.Equal(digests.Select(BackendNames.ForBlob).Order(StringComparer.Ordinal), await ListAllAsync(backend, "blobs/", limit: 3));
        var first = digests[0].Hex;
        Assert.Equal([BackendNames.ForBlob(digests[0])], await ListAllAsync(backend, "blobs/sha256/" + first[..5], limit: 10));
        Assert.Contains(BackendNames.ForBlob(digests[0]), await ListAllAsync(backend, "blobs/sha256/" + first[..1], limit: 10));
        Assert.Empty(await ListAllAsync(backend, "blobs/sha256/ab/", limit: 10));
        Assert.Equal(["repositories/r/_layers/sha256/x/link"], await ListAllAsync(backend, "repositories/r/_l", limit: 10));
    }

    [Fact]
    public void Factory_DistributionLayout_WrapsAnyNameBackend()
    {
        var backend = BackendFactory.Create(new BackendOptions { Type = "filesystem", Root = _dir.Path, Layout = "Distribution" });
        var layout = Assert.IsType<DistributionLayoutBackend>(backend);
        Assert.IsType<FileSystemBackend>(layout.Inner);
        layout.Dispose();
        Assert.IsType<FileSystemBackend>(BackendFactory.Create(new BackendOptions { Type = "filesystem", Root = _dir.Path }));
    }

    [Fact]
    public void Validate_DistributionLayoutOnRegistry_NamesLayout()
    {
        var options = new BackendOptions { Type = "registry", Layout = "distribution", Registry = new RegistryBackendOptions { Address = "http://127.0.0.1:1" } };
        var result = Assert.Single(Validate(options));
        Assert.Contains(nameof(BackendOptions.Layout), result.MemberNames);
        Assert.Contains("registry", result.ErrorMessage, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => BackendFactory.Create(options));
    }

    [Fact]
    public void Validate_UnknownLayout_NamesLayout()
    {
        var result = Assert.Single(Validate(new BackendOptions { Type = "filesystem", Root = "/x", Layout = "kraken" }));
        Assert.Contains(nameof(BackendOptions.Layout), result.MemberNames);
        Assert.Contains("kraken", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DistributionLayoutOnHttp_Valid()
        => Assert.Empty(Validate(new BackendOptions
        {
            Type = "http",
            Layout = "distribution",
            Http = new Http.HttpBackendOptions { DownloadUrl = "http://files/{name}", UploadUrl = "http://files/{name}" },
        }));

    private DistributionLayoutBackend Create() => new(new FileSystemBackend(_dir.Path));

    private void WriteRaw(string relative)
    {
        var path = Path.Combine(_dir.Path, relative.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0]);
    }

    private async Task<List<string>> ListAllAsync(DistributionLayoutBackend backend, string prefix, int limit)
    {
        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await backend.ListAsync(prefix, token, limit, _ct);
            Assert.True(page.Objects.Count <= limit);
            Assert.True(page.Objects.Count > 0 || page.ContinuationToken is null, "an empty page must be the last");
            names.AddRange(page.Objects.Select(o => o.Name));
            token = page.ContinuationToken;
        }
        while (token is not null);
        return names;
    }

    private static List<ValidationResult> Validate(BackendOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
