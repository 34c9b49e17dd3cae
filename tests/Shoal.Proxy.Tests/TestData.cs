using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Tests;

/// <summary>Blobs and manifests for tests.</summary>
internal static class TestData
{
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    public static byte[] RandomBytes(int length) => RandomNumberGenerator.GetBytes(length);

    /// <summary>A unique repository name with a slash in it.</summary>
    public static string Repo(string prefix = "team") => $"{prefix}/app-{Guid.NewGuid():N}"[..(prefix.Length + 17)];

    public static byte[] Config() => Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"nonce":"{{Guid.NewGuid()}}"}""");

    /// <summary>An image manifest (OCI or Docker schema 2) over a config and layers.</summary>
    public static byte[] ImageManifest(string mediaType, (Digest Digest, long Size) config, IEnumerable<(Digest Digest, long Size)> layers, (Digest Digest, long Size, string MediaType)? subject = null, string? annotation = null)
    {
        var docker = mediaType == MediaTypes.DockerManifest;
        var root = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["config"] = Descriptor(docker ? DockerConfig : OciConfig, config.Digest, config.Size),
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)Descriptor(docker ? DockerLayer : OciLayer, l.Digest, l.Size)).ToArray()),
        };
        if (subject is { } s)
        {
            root["subject"] = Descriptor(s.MediaType, s.Digest, s.Size);
        }
        if (annotation is not null)
        {
            root["annotations"] = new JsonObject { ["note"] = annotation };
        }
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>An index (OCI) or manifest list (Docker) over child manifests.</summary>
    public static byte[] Index(string mediaType, params TestImage[] children)
    {
        var architectures = new[] { "amd64", "arm64", "s390x", "ppc64le" };
        var root = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["manifests"] = new JsonArray(children.Select((c, i) =>
            {
                var descriptor = Descriptor(c.MediaType, c.Digest, c.Manifest.Length);
                descriptor["platform"] = new JsonObject { ["os"] = "linux", ["architecture"] = architectures[i % architectures.Length] };
                return (JsonNode)descriptor;
            }).ToArray()),
        };
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>A valid OCI manifest of exactly <paramref name="size"/> bytes (padded with an annotation).</summary>
    public static byte[] ManifestOfSize(int size, (Digest Digest, long Size) config)
    {
        var bare = ImageManifest(MediaTypes.OciManifest, config, [], annotation: "");
        var padded = ImageManifest(MediaTypes.OciManifest, config, [], annotation: new string('x', size - bare.Length));
        Assert.Equal(size, padded.Length);
        return padded;
    }

    private static JsonObject Descriptor(string mediaType, Digest digest, long size)
        => new() { ["mediaType"] = mediaType, ["digest"] = digest.ToString(), ["size"] = size };

    public static JsonDocument Json(string body) => JsonDocument.Parse(body);
}
