namespace Shoal.TestKit;

/// <summary>A multi-platform image (OCI image index) written by <see cref="OciImageBuilder"/>.</summary>
public sealed record OciImageIndex(OciDescriptor Index, IReadOnlyList<OciImage> Images)
{
    /// <summary>Digests of the index and of every platform's manifest, config and layers.</summary>
    public IReadOnlyList<string> BlobDigests => [Index.Digest, .. Images.SelectMany(i => i.BlobDigests)];

    /// <summary>The image for <paramref name="architecture"/>.</summary>
    public OciImage For(string architecture) => Images.Single(i => i.Platform.Architecture == architecture);
}
