namespace Shoal.TestKit;

/// <summary>A content descriptor: media type, <c>sha256:</c> digest, size in bytes.</summary>
public sealed record OciDescriptor(string MediaType, string Digest, long Size)
{
    /// <summary>The hex part of the digest (the blob's file name in a layout).</summary>
    public string Hex => Digest[(Digest.IndexOf(':', StringComparison.Ordinal) + 1)..];
}
