using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Win32.SafeHandles;

namespace Shoal.P2P.Protocol;

/// <summary>
/// Reads and writes Shoal protocol messages over any duplex byte stream: a TCP
/// <see cref="System.Net.Sockets.NetworkStream"/> today, an <see cref="System.Net.Security.SslStream"/>
/// when TLS is on, or a pair of pipes in tests. Keep-alives and timeouts are the caller's: pass a
/// cancellation token that fires when the peer has been silent too long.
/// </summary>
/// <remarks>
/// Not thread-safe: at most one read and one write sequence (writes plus their flush) may be in
/// progress at a time, typically a receive loop and a send loop. A message returned by
/// <see cref="ReadMessageAsync"/> refers into the receive buffer; its <see cref="PeerMessage.Data"/> is
/// valid until the next <see cref="ReadMessageAsync"/>. After any exception from a write, the outbound
/// direction may hold a partial frame: close the connection.
/// </remarks>
public sealed class PeerConnection : IAsyncDisposable
{
    /// <summary>The receive buffer size: large enough that a full block arrives in a few reads.</summary>
    private const int ReceiveBufferSize = 64 * 1024;

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Stream? _stream;
    private ReadOnlySequence<byte> _remaining;
    private bool _holding;
    private bool _inputCompleted;
    private long _bytesRead;
    private long _bytesWritten;

    /// <summary>Speaks the protocol over <paramref name="stream"/>, which the connection disposes unless <paramref name="leaveOpen"/>.</summary>
    public PeerConnection(Stream stream, bool leaveOpen = false, int localVersion = ProtocolConstants.CurrentVersion)
        : this(
            PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReceiveBufferSize, minimumReadSize: ReceiveBufferSize / 4, leaveOpen: true)),
            PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: ReceiveBufferSize, leaveOpen: true)),
            localVersion)
    {
        _stream = leaveOpen ? null : stream;
    }

    /// <summary>Speaks the protocol over a pair of pipes (for example a Kestrel connection's transport); completes them on dispose.</summary>
    public PeerConnection(PipeReader input, PipeWriter output, int localVersion = ProtocolConstants.CurrentVersion)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        _input = input;
        _output = output;
        Reader = new MessageReader(localVersion);
    }

    /// <summary>The inbound state: remote handshake, negotiated version, piece count.</summary>
    public MessageReader Reader { get; }

    /// <summary>
    /// Called before the connection waits for more bytes, with how many must still arrive before the
    /// next message is whole (see <see cref="MessageReader.Missing"/>); a socket transport passes it
    /// to the kernel so the reader is not woken for every packet of a large block.
    /// </summary>
    public Action<long>? Awaiting { get; set; }

    /// <summary>Frame bytes received and decoded so far.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Frame bytes handed to the transport so far.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>
    /// The next message, or null when the peer closed the connection cleanly between frames.
    /// Throws <see cref="ProtocolException"/> for a protocol violation or a connection closed
    /// inside a frame; transport errors surface as <see cref="IOException"/>.
    /// </summary>
    public async ValueTask<PeerMessage?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        // Nothing buffered: the next frame's header (every frame has at least one).
        long missing = ProtocolConstants.HeaderLength;
        while (true)
        {
            if (_holding)
            {
                var buffer = _remaining;
                var before = buffer.Length;
                if (Reader.TryRead(ref buffer, out var message))
                {
                    Interlocked.Add(ref _bytesRead, before - buffer.Length);
                    _remaining = buffer;
                    return message;
                }
                _holding = false;
                if (_inputCompleted)
                {
                    // The buffer's segments go back to the pipe's pool on AdvanceTo: measure it first.
                    var leftOver = buffer.Length;
                    _input.AdvanceTo(buffer.End);
                    return leftOver == 0 ? null : throw new ProtocolException($"connection closed inside a frame ({leftOver} bytes left over)");
                }
                // Consume the frames already decoded, mark the partial frame examined, and wait for more.
                _input.AdvanceTo(buffer.Start, buffer.End);
                missing = Reader.Missing;
            }
            Awaiting?.Invoke(missing);
            var result = await _input.ReadAsync(cancellationToken);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("the read was canceled", cancellationToken);
            }
            _remaining = result.Buffer;
            _inputCompleted = result.IsCompleted;
            _holding = true;
        }
    }

    /// <summary>Appends <paramref name="message"/> to the send buffer without sending it (call <see cref="FlushAsync"/>).</summary>
    public void Write<T>(in T message)
        where T : IPeerMessage
    {
        var length = message.ByteLength;
        var span = _output.GetSpan(length);
        message.Encode(span);
        _output.Advance(length);
        Interlocked.Add(ref _bytesWritten, length);
    }

    /// <summary>Appends <paramref name="message"/> and sends everything buffered.</summary>
    public ValueTask WriteAsync<T>(T message, CancellationToken cancellationToken)
        where T : IPeerMessage
    {
        Write(in message);
        return FlushAsync(cancellationToken);
    }

    /// <summary>Sends a Piece message whose block is <paramref name="data"/>.</summary>
    public ValueTask WritePieceAsync(int pieceIndex, int offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var header = new PieceMessage(pieceIndex, offset, data.Length);
        WritePieceHeader(header);
        _output.Write(data.Span);
        Interlocked.Add(ref _bytesWritten, data.Length);
        return FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Sends a Piece message whose block is read from <paramref name="file"/> at
    /// <paramref name="fileOffset"/> (see <see cref="WritePiece(int, int, SafeFileHandle, long, int)"/>).
    /// </summary>
    public ValueTask WritePieceAsync(int pieceIndex, int offset, SafeFileHandle file, long fileOffset, int length, CancellationToken cancellationToken)
    {
        WritePiece(pieceIndex, offset, file, fileOffset, length);
        return FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Appends a Piece message whose block is read from <paramref name="file"/> at
    /// <paramref name="fileOffset"/>, straight into the send buffer, without sending it (call
    /// <see cref="FlushAsync"/>). The read is synchronous, in one call: a block being passed on was
    /// just written or read, so it is in the page cache, and a thread-pool round trip per read cost
    /// more than the copy itself.
    /// </summary>
    public void WritePiece(int pieceIndex, int offset, SafeFileHandle file, long fileOffset, int length)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(fileOffset);
        var header = new PieceMessage(pieceIndex, offset, length);
        WritePieceHeader(header);
        var block = _output.GetSpan(length)[..length];
        var done = 0;
        while (done < length)
        {
            var read = RandomAccess.Read(file, block[done..], fileOffset + done);
            if (read == 0)
            {
                throw new EndOfStreamException($"file ended {length - done} bytes before the end of block ({pieceIndex}, {offset}, {length})");
            }
            done += read;
        }
        _output.Advance(length);
        Interlocked.Add(ref _bytesWritten, length);
    }

    /// <summary>Sends everything buffered.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var result = await _output.FlushAsync(cancellationToken);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("the write was canceled", cancellationToken);
        }
        if (result.IsCompleted)
        {
            throw new IOException("the peer stopped reading");
        }
    }

    /// <summary>
    /// Completes both directions and disposes the stream (unless it was left open). To abort a
    /// connection while a read is pending, cancel that read (or close the socket) first.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_holding)
        {
            _holding = false;
            _input.AdvanceTo(_remaining.End);
        }
        await _input.CompleteAsync();
        try
        {
            await _output.CompleteAsync();
        }
        catch (IOException)
        {
            // Completing flushes what is left; the peer may already be gone.
        }
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }
    }

    private void WritePieceHeader(PieceMessage header)
    {
        var span = _output.GetSpan(PieceMessage.HeaderLength);
        header.EncodeHeader(span);
        _output.Advance(PieceMessage.HeaderLength);
        Interlocked.Add(ref _bytesWritten, PieceMessage.HeaderLength);
    }
}
