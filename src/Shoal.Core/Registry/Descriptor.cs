namespace Shoal.Core.Registry;

/// <summary>A content descriptor referenced by a manifest.</summary>
/// <param name="MediaType">Its media type (may be empty).</param>
/// <param name="Digest">Its digest.</param>
/// <param name="Size">Its declared size.</param>
/// <param name="Platform">For index entries: the platform, as <c>os/architecture[/variant]</c>, when declared.</param>
public sealed record Descriptor(string MediaType, Digest Digest, long Size, Platform? Platform = null);

/// <summary>An image platform.</summary>
public sealed record Platform(string Os, string Architecture, string? Variant)
{
    /// <inheritdoc />
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}
