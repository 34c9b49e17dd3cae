using System.Security.Cryptography;
using System.Text;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Agent.Tests;

/// <summary>Blobs and manifests for tests.</summary>
internal static class TestData
{
    public const string Repository = "team/app";

    public static byte[] Random(int length) => RandomNumberGenerator.GetBytes(length);

    public static byte[] Config() => Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");

    public static byte[] Manifest(string mediaType, Digest config, long configSize, Digest layer, long layerSize)
    {
        var docker = mediaType == MediaTypes.DockerManifest;
        var configType = docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json";
        var layerType = docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.oci.image.layer.v1.tar+gzip";
        return Encoding.UTF8.GetBytes(
            $$$"""{"schemaVersion":2,"mediaType":"{{{mediaType}}}","config":{"mediaType":"{{{configType}}}","digest":"{{{config}}}","size":{{{configSize}}}},"layers":[{"mediaType":"{{{layerType}}}","digest":"{{{layer}}}","size":{{{layerSize}}}}]}""");
    }

    public static byte[] Index(string mediaType, string childType, Digest child, long childSize)
        => Encoding.UTF8.GetBytes(
            $$$"""{"schemaVersion":2,"mediaType":"{{{mediaType}}}","manifests":[{"mediaType":"{{{childType}}}","digest":"{{{child}}}","size":{{{childSize}}},"platform":{"architecture":"amd64","os":"linux"}}]}""");
}
