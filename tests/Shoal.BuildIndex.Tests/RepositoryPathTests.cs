using Shoal.BuildIndex.Internal;

namespace Shoal.BuildIndex.Tests;

public sealed class RepositoryPathTests
{
    [Theory]
    [InlineData("app/tags", nameof(RepositoryResource.TagList), "app", null)]
    [InlineData("library/nginx/tags", nameof(RepositoryResource.TagList), "library/nginx", null)]
    [InlineData("library/nginx/tags/1.27", nameof(RepositoryResource.Tag), "library/nginx", "1.27")]
    [InlineData("a/tags/manifests", nameof(RepositoryResource.Tag), "a", "manifests")]
    [InlineData("a/manifests/tags", nameof(RepositoryResource.TagList), "a/manifests", null)]
    [InlineData("a/b/manifests/sha256:00", nameof(RepositoryResource.Manifest), "a/b", "sha256:00")]
    [InlineData("a/tags/blobs/sha256:00", nameof(RepositoryResource.Blob), "a/tags", "sha256:00")]
    [InlineData("tags/latest", nameof(RepositoryResource.Tag), "", "latest")]
    [InlineData("tags/tags", nameof(RepositoryResource.TagList), "tags", null)]
    [InlineData("app", nameof(RepositoryResource.None), "", null)]
    [InlineData("app/latest", nameof(RepositoryResource.None), "", null)]
    [InlineData("", nameof(RepositoryResource.None), "", null)]
    public void Parse_ReadsTheResourceFromTheEnd(string path, string resource, string name, string? reference)
    {
        var parsed = RepositoryPath.Parse(path);

        Assert.Equal(Enum.Parse<RepositoryResource>(resource), parsed.Resource);
        Assert.Equal(name, parsed.Name ?? "");
        Assert.Equal(reference, parsed.Reference);
        Assert.Null(parsed.TagListName);
    }

    [Fact]
    public void Parse_TagsTags_IsATagThatMayAlsoBeATagList()
    {
        var parsed = RepositoryPath.Parse("org/app/tags/tags");

        Assert.Equal(RepositoryResource.Tag, parsed.Resource);
        Assert.Equal("org/app", parsed.Name);
        Assert.Equal("tags", parsed.Reference);
        Assert.Equal("org/app/tags", parsed.TagListName);
    }
}
