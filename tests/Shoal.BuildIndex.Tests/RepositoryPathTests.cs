using Shoal.BuildIndex.Internal;

namespace Shoal.BuildIndex.Tests;

public sealed class RepositoryPathTests
{
    [Theory]
    [InlineData("app/_tags", nameof(RepositoryResource.TagList), "app", null)]
    [InlineData("library/nginx/_tags", nameof(RepositoryResource.TagList), "library/nginx", null)]
    [InlineData("app/tags", nameof(RepositoryResource.None), "", null)]
    [InlineData("library/nginx/tags/1.27", nameof(RepositoryResource.Tag), "library/nginx", "1.27")]
    [InlineData("a/tags/manifests", nameof(RepositoryResource.Tag), "a", "manifests")]
    [InlineData("a/manifests/_tags", nameof(RepositoryResource.TagList), "a/manifests", null)]
    [InlineData("a/b/manifests/sha256:00", nameof(RepositoryResource.Manifest), "a/b", "sha256:00")]
    [InlineData("a/tags/blobs/sha256:00", nameof(RepositoryResource.Blob), "a/tags", "sha256:00")]
    [InlineData("tags/latest", nameof(RepositoryResource.Tag), "", "latest")]
    [InlineData("tags/_tags", nameof(RepositoryResource.TagList), "tags", null)]
    [InlineData("a/tags/tags", nameof(RepositoryResource.Tag), "a", "tags")]
    [InlineData("a/tags/_tags", nameof(RepositoryResource.TagList), "a/tags", null)]
    [InlineData("app", nameof(RepositoryResource.None), "", null)]
    [InlineData("app/latest", nameof(RepositoryResource.None), "", null)]
    [InlineData("", nameof(RepositoryResource.None), "", null)]
    public void Parse_ReadsTheResourceFromTheEnd(string path, string resource, string name, string? reference)
    {
        var parsed = RepositoryPath.Parse(path);

        Assert.Equal(Enum.Parse<RepositoryResource>(resource), parsed.Resource);
        Assert.Equal(name, parsed.Name ?? "");
        Assert.Equal(reference, parsed.Reference);
    }
}
