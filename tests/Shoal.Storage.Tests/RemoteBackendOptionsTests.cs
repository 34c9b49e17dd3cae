using System.ComponentModel.DataAnnotations;
using Shoal.Storage.Gcs;
using Shoal.Storage.Hdfs;
using Shoal.Storage.Http;
using Shoal.Storage.S3;

namespace Shoal.Storage.Tests;

public sealed class RemoteBackendOptionsTests
{
    [Theory]
    [InlineData("s3", nameof(BackendOptions.S3))]
    [InlineData("gcs", nameof(BackendOptions.Gcs))]
    [InlineData("hdfs", nameof(BackendOptions.Hdfs))]
    [InlineData("HTTP", nameof(BackendOptions.Http))]
    public void Validate_TypeWithoutSection_NamesSection(string type, string member)
    {
        var result = Assert.Single(Validate(new BackendOptions { Type = type }));
        Assert.Contains(member, result.MemberNames);
    }

    [Fact]
    public void Validate_TypesWithSections_Valid()
    {
        Assert.Empty(Validate(new BackendOptions { Type = "s3", S3 = new S3BackendOptions { Bucket = "b" } }));
        Assert.Empty(Validate(new BackendOptions { Type = "gcs", Gcs = new GcsBackendOptions { Bucket = "b" } }));
        Assert.Empty(Validate(new BackendOptions { Type = "hdfs", Hdfs = new HdfsBackendOptions { NameNodes = ["http://nn:9870"] } }));
        Assert.Empty(Validate(new BackendOptions { Type = "http", Http = new HttpBackendOptions { DownloadUrl = "http://x/{name}", UploadUrl = "http://x/{name}" } }));
    }

    [Fact]
    public void Validate_Sections_CheckTheirOwnKeys()
    {
        Assert.Contains(Validate(new S3BackendOptions()), r => r.MemberNames.Contains(nameof(S3BackendOptions.Bucket)));
        Assert.Contains(Validate(new S3BackendOptions { Bucket = "b", PartSize = 0 }), r => r.MemberNames.Contains(nameof(S3BackendOptions.PartSize)));
        Assert.Contains(Validate(new HdfsBackendOptions()), r => r.MemberNames.Contains(nameof(HdfsBackendOptions.NameNodes)));
        Assert.Contains(Validate(new HttpBackendOptions { DownloadUrl = "http://x/{name}", UploadUrl = "http://x/{name}", UploadMethod = "PATCH" }),
            r => r.MemberNames.Contains(nameof(HttpBackendOptions.UploadMethod)));
        Assert.Contains(Validate(new BandwidthOptions { IngressBytesPerSecond = -1 }), r => r.MemberNames.Contains(nameof(BandwidthOptions.IngressBytesPerSecond)));
    }

    [Fact]
    public void Defaults_AreDocumented()
    {
        var s3 = new S3BackendOptions();
        Assert.Equal("us-east-1", s3.Region);
        Assert.False(s3.ForcePathStyle);
        Assert.Equal(64L << 20, s3.MultipartThreshold);
        Assert.Equal(16L << 20, s3.PartSize);
        Assert.Equal("PUT", new HttpBackendOptions().UploadMethod);
        Assert.Equal("/shoal", new HdfsBackendOptions().RootPath);
        Assert.False(new BandwidthOptions().IsLimited);
    }

    [Fact]
    public void Create_EachType_BuildsItsBackendWithoutNetwork()
    {
        using var s3 = Assert.IsType<S3Backend>(BackendFactory.Create(new BackendOptions
        {
            Type = "s3",
            S3 = new S3BackendOptions { Bucket = "b", Endpoint = "http://127.0.0.1:1", ForcePathStyle = true, AccessKeyId = "a", SecretAccessKey = "s" },
        }));
        using var gcs = Assert.IsType<GcsBackend>(BackendFactory.Create(new BackendOptions { Type = "gcs", Gcs = new GcsBackendOptions { Bucket = "b", Endpoint = "http://127.0.0.1:1/storage/v1/" } }));
        using var hdfs = Assert.IsType<HdfsBackend>(BackendFactory.Create(new BackendOptions { Type = "hdfs", Hdfs = new HdfsBackendOptions { NameNodes = ["http://127.0.0.1:1"] } }));
        using var http = Assert.IsType<HttpBackend>(BackendFactory.Create(new BackendOptions
        {
            Type = "http",
            Http = new HttpBackendOptions { DownloadUrl = "http://127.0.0.1:1/{name}", UploadUrl = "http://127.0.0.1:1/{name}" },
        }));
    }

    [Fact]
    public void Create_SectionMissing_Throws()
    {
        Assert.Throws<ArgumentException>(() => BackendFactory.Create(new BackendOptions { Type = "s3" }));
        Assert.Throws<ArgumentException>(() => BackendFactory.Create(new BackendOptions { Type = "hdfs", Hdfs = new HdfsBackendOptions() }));
        Assert.Throws<ArgumentException>(() => BackendFactory.Create(new BackendOptions { Type = "s3", S3 = new S3BackendOptions { Bucket = "b", Prefix = "../x" } }));
    }

    [Fact]
    public void Create_WithBandwidth_WrapsInThrottledBackend()
    {
        using var dir = new TempDirectory();
        var throttled = Assert.IsType<ThrottledBackend>(BackendFactory.Create(new BackendOptions
        {
            Type = "filesystem",
            Root = dir.Path,
            Bandwidth = new BandwidthOptions { EgressBytesPerSecond = 1 << 20 },
        }));
        Assert.IsType<FileSystemBackend>(throttled.Inner);
        Assert.IsType<FileSystemBackend>(BackendFactory.Create(new BackendOptions { Type = "filesystem", Root = dir.Path, Bandwidth = new BandwidthOptions() }));
    }

    private static List<ValidationResult> Validate(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
