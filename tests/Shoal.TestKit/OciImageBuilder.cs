using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Shoal.TestKit;

/// <summary>
/// Writes an OCI image layout directory (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/…</c>)
/// with real gzip-compressed tar layers of random (so incompressible) content, configs whose
/// <c>rootfs.diff_ids</c> are the digests of the uncompressed tars, and tags as
/// <c>org.opencontainers.image.ref.name</c> annotations — the source format <c>skopeo copy oci:DIR:TAG</c> reads.
/// </summary>
public sealed class OciImageBuilder
{
    public const string ManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
    public const string IndexMediaType = "application/vnd.oci.image.index.v1+json";
    public const string ConfigMediaType = "application/vnd.oci.image.config.v1+json";
    public const string LayerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    private static readonly DateTimeOffset Created = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Random _random;
    private readonly List<JsonObject> _tags = [];
    private readonly Dictionary<string, long> _blobs = new(StringComparer.Ordinal);

    /// <summary>Starts an empty layout at <paramref name="layoutDirectory"/> (created if needed).</summary>
    /// <param name="seed">Seed for the random layer contents; null for a different image every run.</param>
    public OciImageBuilder(string layoutDirectory, int? seed = null)
    {
        LayoutDirectory = layoutDirectory;
        _random = seed is { } s ? new Random(s) : new Random();
        Directory.CreateDirectory(BlobDirectory);
        File.WriteAllText(Path.Combine(layoutDirectory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        SaveIndex();
    }

    /// <summary>The layout's root directory.</summary>
    public string LayoutDirectory { get; }

    /// <summary>Every blob written so far: digest → size.</summary>
    public IReadOnlyDictionary<string, long> Blobs => _blobs;

    private string BlobDirectory => Path.Combine(LayoutDirectory, "blobs", "sha256");

    /// <summary>The file holding blob <paramref name="digest"/>.</summary>
    public string BlobPath(string digest) => Path.Combine(BlobDirectory, digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..]);

    /// <summary>Writes a single-platform image tagged <paramref name="tag"/>.</summary>
    public OciImage AddImage(string tag, OciImageSpec? spec = null)
    {
        var image = WriteImage(spec ?? new OciImageSpec());
        AddTag(tag, image.Manifest);
        return image;
    }

    /// <summary>Writes one image per spec and an OCI image index over them, tagged <paramref name="tag"/>.</summary>
    public OciImageIndex AddIndex(string tag, params OciImageSpec[] platforms)
    {
        ArgumentOutOfRangeException.ThrowIfZero(platforms.Length);
        var images = platforms.Select(WriteImage).ToList();
        var manifests = new JsonArray();
        foreach (var image in images)
        {
            var entry = Descriptor(image.Manifest);
            entry["platform"] = PlatformJson(image.Platform);
            manifests.Add(entry);
        }
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = IndexMediaType,
            ["manifests"] = manifests,
        };
        var descriptor = WriteJsonBlob(IndexMediaType, index);
        AddTag(tag, descriptor);
        return new OciImageIndex(descriptor, images);
    }

    private OciImage WriteImage(OciImageSpec spec)
    {
        var layers = new List<OciDescriptor>();
        var diffIds = new List<string>();
        for (var i = 0; i < spec.LayerSizes.Count; i++)
        {
            var (layer, diffId) = WriteLayer(spec.LayerSizes[i], Math.Max(1, spec.FilesPerLayer), i);
            layers.Add(layer);
            diffIds.Add(diffId);
        }
        var config = new JsonObject
        {
            ["created"] = Created.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ["architecture"] = spec.Platform.Architecture,
            ["os"] = spec.Platform.Os,
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray("PATH=/usr/local/bin:/usr/bin:/bin"),
                ["Cmd"] = new JsonArray("/bin/sh"),
                ["Labels"] = new JsonObject { ["org.example.nonce"] = Convert.ToHexStringLower(RandomBytes(8)) },
            },
            ["rootfs"] = new JsonObject
            {
                ["type"] = "layers",
                ["diff_ids"] = new JsonArray([.. diffIds.Select(d => (JsonNode)d)]),
            },
            ["history"] = new JsonArray([.. diffIds.Select((_, i) => (JsonNode)new JsonObject
            {
                ["created"] = Created.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                ["created_by"] = $"test layer {i}",
            })]),
        };
        if (spec.Platform.Variant is { } variant)
        {
            config["variant"] = variant;
        }
        var configDescriptor = WriteJsonBlob(ConfigMediaType, config);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestMediaType,
            ["config"] = Descriptor(configDescriptor),
            ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)Descriptor(l))]),
        };
        var manifestDescriptor = WriteJsonBlob(ManifestMediaType, manifest);
        return new OciImage(spec.Platform, manifestDescriptor, configDescriptor, layers, diffIds);
    }

    private (OciDescriptor Layer, string DiffId) WriteLayer(int contentBytes, int files, int layerIndex)
    {
        var temp = Path.Combine(BlobDirectory, $".tmp-{Guid.NewGuid():N}");
        string compressedDigest;
        string diffId;
        long size;
        using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        using (var compressed = new HashingStream(file, leaveOpen: true))
        {
            using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            using (var uncompressed = new HashingStream(gzip, leaveOpen: true))
            {
                using (var tar = new TarWriter(uncompressed, TarEntryFormat.Pax, leaveOpen: true))
                {
                    var directory = $"layer{layerIndex}/";
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, directory)
                    {
                        Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
                        ModificationTime = Created,
                    });
                    var remaining = contentBytes;
                    for (var f = 0; f < files; f++)
                    {
                        var length = f == files - 1 ? remaining : contentBytes / files;
                        remaining -= length;
                        using var data = new MemoryStream(RandomBytes(length), writable: false);
                        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{directory}file{f}.bin")
                        {
                            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                            ModificationTime = Created,
                            DataStream = data,
                        });
                    }
                }
                diffId = uncompressed.Digest();
            }
            compressedDigest = compressed.Digest();
            size = compressed.BytesWritten;
        }
        var descriptor = new OciDescriptor(LayerMediaType, compressedDigest, size);
        Commit(temp, descriptor);
        return (descriptor, diffId);
    }

    private OciDescriptor WriteJsonBlob(string mediaType, JsonObject json)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(json, Compact);
        var descriptor = new OciDescriptor(mediaType, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), bytes.Length);
        var temp = Path.Combine(BlobDirectory, $".tmp-{Guid.NewGuid():N}");
        File.WriteAllBytes(temp, bytes);
        Commit(temp, descriptor);
        return descriptor;
    }

    private void Commit(string temp, OciDescriptor descriptor)
    {
        File.Move(temp, BlobPath(descriptor.Digest), overwrite: true);
        _blobs[descriptor.Digest] = descriptor.Size;
    }

    private void AddTag(string tag, OciDescriptor descriptor)
    {
        _tags.RemoveAll(t => t["annotations"]?[RefNameAnnotation]?.GetValue<string>() == tag);
        var entry = Descriptor(descriptor);
        entry["annotations"] = new JsonObject { [RefNameAnnotation] = tag };
        _tags.Add(entry);
        SaveIndex();
    }

    private void SaveIndex()
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray([.. _tags.Select(t => t.DeepClone())]),
        };
        File.WriteAllBytes(Path.Combine(LayoutDirectory, "index.json"), JsonSerializer.SerializeToUtf8Bytes(index, Compact));
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private static JsonObject Descriptor(OciDescriptor descriptor) => new()
    {
        ["mediaType"] = descriptor.MediaType,
        ["digest"] = descriptor.Digest,
        ["size"] = descriptor.Size,
    };

    private static JsonObject PlatformJson(OciPlatform platform)
    {
        var json = new JsonObject { ["architecture"] = platform.Architecture, ["os"] = platform.Os };
        if (platform.Variant is { } variant)
        {
            json["variant"] = variant;
        }
        return json;
    }
}
