namespace Shoal.Proxy.Internal;

/// <summary>
/// A read-only view of a request body that must hold exactly <c>length</c> bytes (the size a
/// <c>Content-Range</c> announced). A shorter or longer body fails with
/// <see cref="InvalidDataException"/>, which makes the upload store cut the chunk off again.
/// </summary>
internal sealed class ExactLengthStream(Stream inner, long length) : Stream
{
    private readonly long _length = length;
    private long _remaining = length;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        if (_remaining == 0)
        {
            // The announced bytes are all here; the body must end now.
            var extra = await inner.ReadAsync(buffer[..1], cancellationToken);
            return extra == 0
                ? 0
                : throw new InvalidDataException($"the body is longer than the {_length} bytes its Content-Range announced");
        }
        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
        if (read == 0)
        {
            throw new InvalidDataException($"the body ended {_remaining} bytes short of the {_length} bytes its Content-Range announced");
        }
        _remaining -= read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
        => throw new NotSupportedException("read asynchronously");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
