namespace Shoal.Clients.Origin;

/// <summary>
/// A blob being read from an origin. <see cref="Content"/> streams the response body; dispose this
/// to release the connection.
/// </summary>
public sealed class OriginBlob : IAsyncDisposable, IDisposable
{
    private readonly HttpResponseMessage _response;

    internal OriginBlob(HttpResponseMessage response, Stream content, long totalLength, long? contentLength, long offset)
    {
        _response = response;
        Content = content;
        TotalLength = totalLength;
        ContentLength = contentLength;
        Offset = offset;
    }

    /// <summary>The body: the whole blob, or the requested range.</summary>
    public Stream Content { get; }

    /// <summary>The whole blob's length.</summary>
    public long TotalLength { get; }

    /// <summary>The body's length when the server declared it.</summary>
    public long? ContentLength { get; }

    /// <summary>Offset in the blob of the body's first byte (non-zero for a range).</summary>
    public long Offset { get; }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync();
        _response.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Content.Dispose();
        _response.Dispose();
    }
}
