namespace Shoal.P2P.Engine;

/// <summary>A forward-only read of a <see cref="BlobDownload"/> that waits for verified pieces.</summary>
internal sealed class DownloadStream : Stream
{
    private readonly BlobDownload _download;
    private readonly int _id;
    private readonly long _end;
    private long _position;
    private int _waitingAt = BlobDownload.ReaderNotWaiting;
    private bool _disposed;
    private bool _registered;

    public DownloadStream(BlobDownload download, int id, long offset, long count)
    {
        _download = download;
        _id = id;
        _position = offset;
        _end = offset + count;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_position >= _end || buffer.Length == 0)
        {
            return 0;
        }
        var info = _download.MetaInfo;
        var piece = (int)(_position / info.PieceLength);
        while (!_download.HasPiece(piece))
        {
            var progress = _download.Progress;
            if (_download.HasPiece(piece))
            {
                break;
            }
            if (_download.Completion.IsCompleted && !_download.Completion.IsCompletedSuccessfully)
            {
                throw new IOException($"the download of {info.Digest} failed", _download.Completion.Exception?.InnerException);
            }
            if (_waitingAt != piece)
            {
                _waitingAt = piece;
                _registered = true;
                _download.ReaderAt(_id, piece);
            }
            await progress.WaitAsync(cancellationToken);
        }
        if (_waitingAt != BlobDownload.ReaderNotWaiting)
        {
            _waitingAt = BlobDownload.ReaderNotWaiting;
            _download.ReaderAt(_id, BlobDownload.ReaderNotWaiting);
        }
        // As far as the buffer, the range and the verified pieces from here on go: a reader behind
        // the download reads several pieces at once instead of one write to its client per piece.
        var limit = Math.Min(_end, _position + buffer.Length);
        var available = info.PieceOffset(piece) + info.PieceSize(piece);
        while (available < limit && _download.HasPiece(++piece))
        {
            available += info.PieceSize(piece);
        }
        var count = (int)(Math.Min(available, limit) - _position);
        if (_position + count == info.Length)
        {
            // The blob's last byte goes out only once the whole blob matched its digest.
            try
            {
                await _download.WholeBlobVerified.WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new IOException($"{info.Digest} failed its digest check", ex);
            }
        }
        int read;
        try
        {
            // Synchronous: the piece was verified and written moments ago, so it is in the page cache.
            read = RandomAccess.Read(_download.File.Handle, buffer.Span[..count], _position);
        }
        catch (ObjectDisposedException ex) when (_download.Completion.IsFaulted)
        {
            // A failed download closes its file under readers that were still behind.
            throw new IOException($"the download of {info.Digest} failed", _download.Completion.Exception?.InnerException ?? ex);
        }
        if (read == 0)
        {
            throw new EndOfStreamException($"{info.Digest} ended early at {_position}");
        }
        _position += read;
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            if (_registered)
            {
                _download.ReaderAt(_id, BlobDownload.ReaderGone);
            }
        }
        base.Dispose(disposing);
    }
}
