namespace Shoal.Storage.Internal;

/// <summary>
/// A forward-only view of an upload's content that yields exactly <c>length</c> bytes and throws
/// <see cref="InvalidDataException"/> when the content ends early or has bytes past that length, so
/// a backend's client library fails the upload (and leaves nothing visible) instead of storing a
/// short or truncated object. Excess content is detected before the last byte is handed out, so a
/// server that stores a body once Content-Length bytes arrived never sees a complete body of an
/// over-long upload. It does not own the inner stream.
/// </summary>
internal sealed class ExactLengthReadStream : Stream
{
    private readonly Stream _inner;
    private readonly string _name;
    private readonly long _length;
    private long _position;
    private bool _checkedEnd;

    public ExactLengthReadStream(Stream inner, long length, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _inner = inner;
        _length = length;
        _name = name;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    /// <summary>The declared length; known even though the stream cannot seek.</summary>
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        var remaining = _length - _position;
        if (remaining == 0)
        {
            CheckEnd(_checkedEnd ? 0 : _inner.Read(stackalloc byte[1]));
            return 0;
        }
        var read = Advance(_inner.Read(buffer[..(int)Math.Min(buffer.Length, remaining)]));
        if (_position == _length)
        {
            CheckEnd(_inner.Read(stackalloc byte[1]));
        }
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        var remaining = _length - _position;
        if (remaining == 0)
        {
            if (!_checkedEnd)
            {
                var probe = new byte[1];
                CheckEnd(await _inner.ReadAsync(probe, cancellationToken));
            }
            return 0;
        }
        var read = Advance(await _inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, remaining)], cancellationToken));
        if (_position == _length)
        {
            var probe = new byte[1];
            CheckEnd(await _inner.ReadAsync(probe, cancellationToken));
        }
        return read;
    }

    private int Advance(int read)
    {
        if (read == 0)
        {
            throw new InvalidDataException($"content of '{_name}' ended after {_position} of {_length} bytes");
        }
        _position += read;
        return read;
    }

    private void CheckEnd(int extra)
    {
        if (extra != 0)
        {
            throw new InvalidDataException($"content of '{_name}' is longer than {_length} bytes");
        }
        _checkedEnd = true;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
