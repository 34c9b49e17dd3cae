namespace Shoal.TestKit;

/// <summary>A single-platform image written by <see cref="OciImageBuilder"/>.</summary>
public sealed record OciImage(
    OciPlatform Platform,
    OciDescriptor Manifest,
    OciDescriptor Config,
    IReadOnlyList<OciDescriptor> Layers,
    IReadOnlyList<string> DiffIds)
{
    /// <summary>Digests of the manifest, config and layers.</summary>
    public IReadOnlyList<string> BlobDigests => [Manifest.Digest, Config.Digest, .. Layers.Select(l => l.Digest)];
}
