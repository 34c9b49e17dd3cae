using Shoal.Storage;

namespace Shoal.Origin.Tests;

/// <summary>A <see cref="FileSystemBackend"/> that counts reads and uploads and can hold or fail them.</summary>
internal sealed class TestBackend : IBlobBackend
{
    private int _reads;
    private int _uploads;
    private int _stats;
    private int _uploadsStarted;

    public TestBackend(string root) => Inner = new FileSystemBackend(root);

    public FileSystemBackend Inner { get; }

    /// <summary>How many times an object was opened for reading.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>How many times an object was looked up.</summary>
    public int Stats => Volatile.Read(ref _stats);

    /// <summary>When set with <see cref="HoldGate"/>, a read delivers this many bytes, then waits for the gate.</summary>
    public long? HoldAfter { get; set; }

    /// <summary>See <see cref="HoldAfter"/>.</summary>
    public TaskCompletionSource? HoldGate { get; set; }

    /// <summary>How many uploads completed.</summary>
    public int Uploads => Volatile.Read(ref _uploads);

    /// <summary>When set, reads wait for it before opening the object.</summary>
    public TaskCompletionSource? ReadGate { get; set; }

    /// <summary>When set, reads throw it.</summary>
    public Exception? ReadFailure { get; set; }

    /// <summary>When set, uploads throw it.</summary>
    public Exception? UploadFailure { get; set; }

    /// <summary>When set, uploads wait for it before storing the object.</summary>
    public TaskCompletionSource? UploadGate { get; set; }

    /// <summary>How many uploads began (reached the backend, whatever their outcome).</summary>
    public int UploadsStarted => Volatile.Read(ref _uploadsStarted);

    public Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _stats);
        if (ReadFailure is { } failure)
        {
            throw failure;
        }
        return Inner.StatAsync(name, cancellationToken);
    }

    public async Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        if (ReadGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
        if (ReadFailure is { } failure)
        {
            throw failure;
        }
        var stream = await Inner.OpenReadAsync(name, offset, length, cancellationToken);
        return stream is not null && HoldAfter is { } after && HoldGate is { } hold ? new HoldingStream(stream, after, hold) : stream;
    }

    /// <summary>Delivers the first bytes, then stalls until the gate opens (a slow backend).</summary>
    private sealed class HoldingStream(Stream inner, long after, TaskCompletionSource gate) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= after)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }
            else if (_position + buffer.Length > after)
            {
                buffer = buffer[..(int)(after - _position)];
            }
            var read = await inner.ReadAsync(buffer, cancellationToken);
            _position += read;
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    public async Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _uploadsStarted);
        if (UploadGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
        if (UploadFailure is { } failure)
        {
            throw failure;
        }
        await Inner.UploadAsync(name, content, length, cancellationToken);
        Interlocked.Increment(ref _uploads);
    }

    public Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
        => Inner.ListAsync(prefix, continuationToken, limit, cancellationToken);

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) => Inner.DeleteAsync(name, cancellationToken);
}
