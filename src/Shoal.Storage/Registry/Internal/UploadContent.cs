using System.Buffers;
using System.Net;
using Shoal.Core.Blobs;

namespace Shoal.Storage.Registry.Internal;

/// <summary>
/// A request body of exactly <c>length</c> bytes streamed from a caller's stream. When
/// <c>isLast</c>, the source must end there: a longer source fails before the final bytes are
/// sent, so the registry never completes an upload of the wrong content.
/// </summary>
internal sealed class UploadContent : HttpContent
{
    private readonly Stream _source;
    private readonly long _length;
    private readonly bool _isLast;
    private readonly Action _progress;

    public UploadContent(Stream source, long length, bool isLast, Action progress)
    {
        _source = source;
        _length = length;
        _isLast = isLast;
        _progress = progress;
        Headers.ContentType = new("application/octet-stream");
        Headers.ContentLength = length;
    }

    /// <summary>Why the source could not be sent (it was shorter or longer than declared), or null.</summary>
    public InvalidDataException? Failure { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
        try
        {
            var remaining = _length;
            if (remaining == 0 && _isLast)
            {
                await ProbeForExcessAsync(buffer, cancellationToken);
            }
            while (remaining > 0)
            {
                var read = await _source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
                if (read == 0)
                {
                    throw Fail(new InvalidDataException($"the content ended {remaining} bytes short of the declared length"));
                }
                remaining -= read;
                if (remaining == 0 && _isLast)
                {
                    await ProbeForExcessAsync(buffer.AsMemory(read), cancellationToken);
                }
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                _progress();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }

    private async Task ProbeForExcessAsync(Memory<byte> scratch, CancellationToken cancellationToken)
    {
        Memory<byte> probe = scratch.Length > 0 ? scratch[..1] : new byte[1];
        if (await _source.ReadAsync(probe, cancellationToken) > 0)
        {
            throw Fail(new InvalidDataException("the content is longer than the declared length"));
        }
    }

    private InvalidDataException Fail(InvalidDataException exception)
    {
        Failure = exception;
        return exception;
    }
}
