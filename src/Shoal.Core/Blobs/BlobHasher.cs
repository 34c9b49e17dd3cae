namespace Shoal.Core.Blobs;

/// <summary>
/// Hashes a blob in one SHA-256 pass as its bytes stream by, keeping the chaining value at every
/// piece boundary: that pass yields both the blob's digest and its <see cref="MetaInfo"/>, so
/// storing a blob hashes each byte once and never reads it back.
/// </summary>
public sealed class BlobHasher
{
    private readonly uint[] _state = new uint[8];
    private readonly byte[] _pending = new byte[Sha256Chain.BlockSize];
    private readonly long? _expectedLength;
    private readonly int? _pieceLength;
    private int _pendingLength;
    private int _step;
    private byte[] _values = [];
    private int _valueCount;

    /// <param name="expectedLength">
    /// The blob's length when known up front (it fixes the piece length). When null, chaining values
    /// are kept at the piece length the policy picks for the bytes seen so far, which only grows and
    /// is a power of two, so the final piece length's boundaries are always among them.
    /// </param>
    public BlobHasher(long? expectedLength)
    {
        _expectedLength = expectedLength;
        _step = PieceLengthPolicy.For(expectedLength ?? 0);
        Sha256Chain.Load([], _state);
    }

    /// <summary>
    /// Hashes a blob of <paramref name="expectedLength"/> bytes into pieces of
    /// <paramref name="pieceLength"/> instead of the policy's (benchmarks, tests, and any caller that
    /// must reproduce a metainfo cut another way).
    /// </summary>
    public BlobHasher(long expectedLength, int pieceLength)
        : this(expectedLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        MetaInfo.ThrowIfNotWholeBlocks(pieceLength);
        _pieceLength = pieceLength;
        _step = pieceLength;
    }

    /// <summary>Bytes hashed so far.</summary>
    public long Length { get; private set; }

    /// <summary>Adds the next bytes of the blob.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var take = (int)Math.Min(data.Length, _step - (Length % _step));
            Hash(data[..take]);
            data = data[take..];
            if (Length % _step == 0)
            {
                KeepChainingValue();
            }
        }
    }

    /// <summary>
    /// Finishes hashing. The metainfo is null when the length was given up front and the bytes did
    /// not match it (the caller reports that).
    /// </summary>
    public (Digest Digest, MetaInfo? MetaInfo) Complete()
    {
        Span<uint> state = stackalloc uint[8];
        _state.CopyTo(state);
        Sha256Chain.Pad(state, _pending.AsSpan(0, _pendingLength), Length);
        Span<byte> hash = stackalloc byte[Sha256Chain.ValueSize];
        Sha256Chain.Store(state, hash);
        var digest = Digest.FromSha256(hash);
        if (_expectedLength is { } expected && expected != Length)
        {
            return (digest, null);
        }
        var pieceLength = _pieceLength ?? PieceLengthPolicy.For(Length);
        var count = MetaInfo.PieceCountFor(Length, pieceLength);
        var chain = new byte[count * Sha256Chain.ValueSize];
        var stride = pieceLength / _step;
        for (var i = 0; i < count - 1; i++)
        {
            _values.AsSpan(((((i + 1) * stride) - 1) * Sha256Chain.ValueSize), Sha256Chain.ValueSize)
                .CopyTo(chain.AsSpan(i * Sha256Chain.ValueSize));
        }
        if (count > 0)
        {
            hash.CopyTo(chain.AsSpan((count - 1) * Sha256Chain.ValueSize));
        }
        return (digest, new MetaInfo(digest, Length, pieceLength, chain));
    }

    /// <summary>Adds the bytes of <paramref name="source"/> from its position to its end.</summary>
    public async Task AppendAsync(Stream source, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, StreamBuffers.CopyBufferSize), cancellationToken)) > 0)
            {
                Append(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Computes a blob's metainfo by reading <paramref name="source"/> to its end.</summary>
    public static async Task<MetaInfo> ComputeAsync(Stream source, long length, CancellationToken cancellationToken)
    {
        var hasher = new BlobHasher(length);
        await hasher.AppendAsync(source, cancellationToken);
        return hasher.Complete().MetaInfo ?? throw new InvalidDataException($"stream held {hasher.Length} bytes, expected {length}");
    }

    private void Hash(ReadOnlySpan<byte> data)
    {
        Length += data.Length;
        if (_pendingLength > 0)
        {
            var fill = Math.Min(data.Length, Sha256Chain.BlockSize - _pendingLength);
            data[..fill].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += fill;
            data = data[fill..];
            if (_pendingLength < Sha256Chain.BlockSize)
            {
                return;
            }
            Sha256Chain.Compress(_state, _pending);
            _pendingLength = 0;
        }
        var whole = data.Length - (data.Length % Sha256Chain.BlockSize);
        Sha256Chain.Compress(_state, data[..whole]);
        data[whole..].CopyTo(_pending);
        _pendingLength = data.Length - whole;
    }

    /// <summary>At a multiple of the step (so of the block size: nothing is pending), keeps the chaining value.</summary>
    private void KeepChainingValue()
    {
        if (_expectedLength is null && PieceLengthPolicy.For(Length) is var step && step > _step)
        {
            // The piece length grew with the blob: keep only the values at its boundaries.
            var stride = step / _step;
            var kept = 0;
            for (var i = stride - 1; i < _valueCount; i += stride)
            {
                _values.AsSpan(i * Sha256Chain.ValueSize, Sha256Chain.ValueSize).CopyTo(_values.AsSpan(kept++ * Sha256Chain.ValueSize));
            }
            _valueCount = kept;
            _step = step;
            if (Length % _step != 0)
            {
                return;
            }
        }
        if ((_valueCount + 1) * Sha256Chain.ValueSize > _values.Length)
        {
            Array.Resize(ref _values, Math.Max(64, _values.Length * 2));
        }
        Sha256Chain.Store(_state, _values.AsSpan(_valueCount++ * Sha256Chain.ValueSize));
    }
}
