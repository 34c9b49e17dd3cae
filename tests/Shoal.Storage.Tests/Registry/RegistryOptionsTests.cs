using System.ComponentModel.DataAnnotations;
using Shoal.Storage.Registry;
using Shoal.Storage.Registry.Internal;

namespace Shoal.Storage.Tests.Registry;

public sealed class RegistryOptionsTests
{
    [Theory]
    [InlineData("docker.io")]
    [InlineData("index.docker.io")]
    [InlineData("https://index.docker.io/")]
    [InlineData("https://docker.io")]
    [InlineData("registry-1.docker.io")]
    public void Address_DockerHubAliases_MapToRegistry1(string address)
    {
        var parsed = RegistryAddress.Parse(address);

        Assert.Equal(new Uri("https://registry-1.docker.io/"), parsed.BaseUri);
        Assert.True(parsed.IsDockerHub);
        Assert.Equal("library/alpine", parsed.Repository("alpine"));
        Assert.Equal("bitnami/redis", parsed.Repository("bitnami/redis"));
    }

    [Fact]
    public void Address_PrivateRegistryWithPrefix_KeepsPathAndNames()
    {
        var parsed = RegistryAddress.Parse("https://harbor.example.com/mirror");

        Assert.False(parsed.IsDockerHub);
        Assert.Equal("alpine", parsed.Repository("alpine"));
        Assert.Equal(new Uri("https://harbor.example.com/mirror/v2/alpine/tags/list"), parsed.Api("v2/alpine/tags/list"));
    }

    [Theory]
    [InlineData("ftp://registry")]
    [InlineData("registry.example.com")]
    [InlineData("https://user:pw@registry.example.com")]
    [InlineData("https://registry.example.com/?x=1")]
    public void Validate_BadAddress_NamesAddress(string address)
    {
        var result = Assert.Single(Validate(new RegistryBackendOptions { Address = address }));
        Assert.Contains(nameof(RegistryBackendOptions.Address), result.MemberNames);
    }

    [Fact]
    public void Validate_PasswordWithoutUserOrBoth_Invalid()
    {
        Assert.Contains(Validate(new RegistryBackendOptions { Address = "https://r.example.com", Password = "x" }),
            r => r.MemberNames.Contains(nameof(RegistryBackendOptions.Username)));
        Assert.Contains(Validate(new RegistryBackendOptions { Address = "https://r.example.com", Username = "u", Password = "x", PasswordFile = "/nonexistent" }),
            r => r.MemberNames.Contains(nameof(RegistryBackendOptions.PasswordFile)));
        Assert.Empty(Validate(new RegistryBackendOptions { Address = "https://r.example.com", Username = "u", Password = "x" }));
    }

    [Fact]
    public void Validate_ChunkSizeAndTimeoutOutOfRange_Invalid()
    {
        Assert.Contains(Validate(new RegistryBackendOptions { Address = "https://r.example.com", ChunkSize = 10 }),
            r => r.MemberNames.Contains(nameof(RegistryBackendOptions.ChunkSize)));
        Assert.Contains(Validate(new RegistryBackendOptions { Address = "https://r.example.com", Timeout = TimeSpan.Zero }),
            r => r.MemberNames.Contains(nameof(RegistryBackendOptions.Timeout)));
    }

    [Fact]
    public void BackendOptions_RegistryTypeWithoutSection_NamesRegistry()
    {
        var options = new BackendOptions { Type = "registry" };
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);

        Assert.Contains(results, r => r.MemberNames.Contains(nameof(BackendOptions.Registry)));
        Assert.Throws<ArgumentException>(() => BackendFactory.Create(options));
    }

    [Fact]
    public void BackendFactory_Registry_CreatesNamespaceBoundBackend()
    {
        using var backend = Assert.IsType<RegistryBackend>(BackendFactory.Create(new BackendOptions
        {
            Type = "Registry",
            Registry = new RegistryBackendOptions { Address = "docker.io" },
        }));

        Assert.Equal(new Uri("https://registry-1.docker.io/"), backend.Address);
        Assert.False(backend.Writable);
        Assert.Equal("library/alpine", Assert.IsType<RepositoryBackend>(backend.Bind("alpine")).Repository);
    }

    [Fact]
    public void Challenge_BearerWithQuotedCommas_Parsed()
    {
        var parameters = AuthChallenge.ParseParameters("realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:samalba/my-app:pull,push\",error=insufficient_scope");

        Assert.Equal("https://auth.docker.io/token", parameters["realm"]);
        Assert.Equal("registry.docker.io", parameters["service"]);
        Assert.Equal("repository:samalba/my-app:pull,push", parameters["scope"]);
        Assert.Equal("insufficient_scope", parameters["error"]);
    }

    private static List<ValidationResult> Validate(RegistryBackendOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
