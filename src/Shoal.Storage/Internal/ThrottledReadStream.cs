namespace Shoal.Storage.Internal;

/// <summary>A read-only stream that takes every byte it returns from a <see cref="TokenBucket"/>. It owns the inner stream.</summary>
internal sealed class ThrottledReadStream : Stream
{
    private readonly Stream _inner;
    private readonly TokenBucket _bucket;
    private readonly bool _ownsInner;

    public ThrottledReadStream(Stream inner, TokenBucket bucket, bool ownsInner)
    {
        _inner = inner;
        _bucket = bucket;
        _ownsInner = ownsInner;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _inner.Length;

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
        => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        var read = await _inner.ReadAsync(buffer[..Math.Min(buffer.Length, _bucket.MaxTake)], cancellationToken);
        if (read > 0)
        {
            await _bucket.TakeAsync(read, cancellationToken);
        }
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsInner)
        {
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
