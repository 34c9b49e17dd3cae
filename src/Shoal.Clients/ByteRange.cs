namespace Shoal.Clients;

/// <summary>An inclusive byte range, as in an HTTP <c>Range: bytes=From-To</c> header (To null = to the end).</summary>
public readonly record struct ByteRange(long From, long? To)
{
    /// <summary>The header value.</summary>
    public override string ToString() => To is { } to ? $"bytes={From}-{to}" : $"bytes={From}-";
}
