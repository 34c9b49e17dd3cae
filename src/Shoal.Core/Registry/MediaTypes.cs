namespace Shoal.Core.Registry;

/// <summary>The manifest media types Shoal serves.</summary>
public static class MediaTypes
{
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OctetStream = "application/octet-stream";

    /// <summary>The manifest types Shoal accepts and serves.</summary>
    public static readonly IReadOnlyList<string> Manifests = [DockerManifest, DockerManifestList, OciManifest, OciIndex];

    /// <summary>True for a manifest that lists other manifests (index or manifest list).</summary>
    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>True for a media type Shoal accepts as a manifest.</summary>
    public static bool IsManifest(string? mediaType) => mediaType is DockerManifest or DockerManifestList or OciManifest or OciIndex;
}
