using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>The test kit's image builder must write what real clients accept; these checks need no client.</summary>
[Trait("Category", "Functional")]
public sealed class TestKitTests : IDisposable
{
    private readonly TempDirectory _temp = new("shoal-kit");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void AddImage_WritesLayoutWhoseDiffIdsAreTheUncompressedTarDigests()
    {
        var builder = new OciImageBuilder(_temp.Path, seed: 7);
        var image = builder.AddImage("v1", new OciImageSpec { LayerSizes = [100_000, 50_000], FilesPerLayer = 3 });

        Assert.Equal(image.Manifest, OciLayoutReader.Resolve(_temp.Path, "v1"));
        var blobs = OciLayoutReader.VerifiedBlobs(_temp.Path);
        Assert.Equal(image.BlobDigests.Order(StringComparer.Ordinal), blobs.Keys.Order(StringComparer.Ordinal));
        for (var i = 0; i < image.Layers.Count; i++)
        {
            var layer = image.Layers[i];
            Assert.Equal(new FileInfo(blobs[layer.Digest]).Length, layer.Size);
            using var gzip = new GZipStream(File.OpenRead(blobs[layer.Digest]), CompressionMode.Decompress);
            using var tar = new MemoryStream();
            gzip.CopyTo(tar);
            Assert.Equal(image.DiffIds[i], "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(tar.ToArray())));
            tar.Position = 0;
            using var reader = new TarReader(tar);
            var files = new List<TarEntry>();
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.EntryType == TarEntryType.RegularFile)
                {
                    files.Add(entry);
                }
            }
            Assert.Equal(3, files.Count);
            Assert.Equal(i == 0 ? 100_000 : 50_000, files.Sum(f => f.Length));
            // Random content does not compress: the layer is at least as large as its files.
            Assert.True(layer.Size >= files.Sum(f => f.Length));
        }
        using var config = OciLayoutReader.ReadJson(_temp.Path, image.Config.Digest);
        Assert.Equal("amd64", config.RootElement.GetProperty("architecture").GetString());
        Assert.Equal("linux", config.RootElement.GetProperty("os").GetString());
        Assert.Equal(image.DiffIds, config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()!));
    }

    [Fact]
    public void AddIndex_WritesOnePlatformManifestPerArchitecture()
    {
        var builder = new OciImageBuilder(_temp.Path);
        var index = builder.AddIndex("multi", new OciImageSpec(), new OciImageSpec { Platform = OciPlatform.LinuxArm64, LayerSizes = [1000, 2000] });
        builder.AddImage("single");

        Assert.Equal(index.Index, OciLayoutReader.Resolve(_temp.Path, "multi"));
        using var json = OciLayoutReader.ReadJson(_temp.Path, index.Index.Digest);
        var platforms = json.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => (m.GetProperty("digest").GetString(), m.GetProperty("platform").GetProperty("architecture").GetString()))
            .ToList();
        Assert.Equal([(index.For("amd64").Manifest.Digest, "amd64"), (index.For("arm64").Manifest.Digest, "arm64")], platforms);
        Assert.Equal(2, index.For("arm64").Layers.Count);
        Assert.Empty(index.For("amd64").Layers.Select(l => l.Digest).Intersect(index.For("arm64").Layers.Select(l => l.Digest)));
        Assert.Equal(2, JsonDocument.Parse(File.ReadAllText(Path.Combine(_temp.Path, "index.json"))).RootElement.GetProperty("manifests").GetArrayLength());
    }

    [Fact]
    public async Task ExternalProcess_CapturesOutputAndStopsBySigterm()
    {
        using var process = ExternalProcess.Start("/bin/sh", ["-c", "echo ready; trap 'echo bye; exit 3' TERM; while true; do sleep 0.1; done"]);
        await process.WaitForOutputAsync("ready", TimeSpan.FromSeconds(10));

        var exitCode = await process.StopAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, exitCode);
        Assert.Contains("bye", process.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExternalProcess_WaitForPortOfExitedProgram_FailsFastWithOutput()
    {
        using var process = ExternalProcess.Start("/bin/sh", ["-c", "echo broken >&2; exit 4"]);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => process.WaitForTcpPortAsync("127.0.0.1", FreePort.Next(), TimeSpan.FromSeconds(30)));

        Assert.Contains("code 4", error.Message, StringComparison.Ordinal);
        Assert.Contains("broken", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToolCheck_FindsShellAndMissesNonsense()
    {
        Assert.NotNull(ToolCheck.Find("sh"));
        Assert.Null(ToolCheck.Find("shoal-no-such-tool"));
        Assert.Equal(["shoal-no-such-tool"], ToolCheck.Missing(["sh", "shoal-no-such-tool"]));
        Assert.Throws<InvalidOperationException>(() => ToolCheck.Require("shoal-no-such-tool"));
    }

    [Fact]
    public void E2EFact_MissingTool_SkipsOnlyWhenOptional()
    {
        var previous = Environment.GetEnvironmentVariable(ToolCheck.OptionalVariable);
        try
        {
            Environment.SetEnvironmentVariable(ToolCheck.OptionalVariable, null);
            Assert.Null(new E2EFactAttribute("shoal-no-such-tool").Skip);

            Environment.SetEnvironmentVariable(ToolCheck.OptionalVariable, "1");
            Assert.Contains("shoal-no-such-tool", new E2EFactAttribute("shoal-no-such-tool").Skip, StringComparison.Ordinal);
            Assert.Null(new E2EFactAttribute("sh").Skip);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ToolCheck.OptionalVariable, previous);
        }
    }
}
