using System.ComponentModel.DataAnnotations;

namespace Shoal.Storage.Tests;

public sealed class BackendOptionsTests
{
    [Fact]
    public void Validate_FileSystemWithRoot_Valid()
        => Assert.Empty(Validate(new BackendOptions { Type = "filesystem", Root = "/srv/blobs" }));

    [Fact]
    public void Validate_UnknownType_NamesType()
    {
        var result = Assert.Single(Validate(new BackendOptions { Type = "s4", Root = "/x" }));
        Assert.Contains(nameof(BackendOptions.Type), result.MemberNames);
        Assert.Contains("s4", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_FileSystemWithoutRoot_NamesRoot()
    {
        var result = Assert.Single(Validate(new BackendOptions { Type = "filesystem" }));
        Assert.Contains(nameof(BackendOptions.Root), result.MemberNames);
    }

    [Fact]
    public void Validate_MissingType_Invalid()
        => Assert.NotEmpty(Validate(new BackendOptions()));

    [Fact]
    public void Create_FileSystem_UsesRoot()
    {
        using var dir = new TempDirectory();
        var backend = Assert.IsType<FileSystemBackend>(BackendFactory.Create(new BackendOptions { Type = "FileSystem", Root = dir.Path }));
        Assert.Equal(Path.GetFullPath(dir.Path), backend.Root);
    }

    [Fact]
    public void Create_UnknownType_Throws()
        => Assert.Throws<ArgumentException>(() => BackendFactory.Create(new BackendOptions { Type = "s4" }));

    private static List<ValidationResult> Validate(BackendOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
