using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using Shoal.P2P.Protocol;

namespace Shoal.P2P;

/// <summary>
/// A fixed-length set of piece indexes: which pieces a peer has, which we have, which are requested.
/// </summary>
/// <remarks>
/// Bits are stored most-significant first in 64-bit words, the same order as the wire form (bit 7
/// of byte 0 is piece 0), so converting to and from the wire is a big-endian word copy, and a scan
/// finds the next set bit of 64 pieces with one <see cref="BitOperations.LeadingZeroCount(ulong)"/>.
/// Bits past <see cref="Length"/> are always zero. Not thread-safe.
/// </remarks>
public sealed class Bitfield
{
    private const ulong HighBit = 1UL << 63;

    private readonly ulong[] _words;
    private int _setCount;

    /// <summary>Creates a bitfield of <paramref name="length"/> bits, all clear.</summary>
    public Bitfield(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _words = new ulong[(length + 63) >> 6];
    }

    /// <summary>The number of bits (pieces).</summary>
    public int Length { get; }

    /// <summary>The number of set bits.</summary>
    public int SetCount => _setCount;

    /// <summary>The number of clear bits.</summary>
    public int ClearCount => Length - _setCount;

    /// <summary>True when every bit is set (also for a zero-length bitfield).</summary>
    public bool IsFull => _setCount == Length;

    /// <summary>True when no bit is set.</summary>
    public bool IsEmpty => _setCount == 0;

    /// <summary>The length of the wire form in bytes: <c>ceil(Length / 8)</c>.</summary>
    public int WireLength => WireLengthFor(Length);

    /// <summary>The words, most-significant bit first; bits past <see cref="Length"/> are zero.</summary>
    internal ReadOnlySpan<ulong> Words => _words;

    /// <summary>Gets or sets bit <paramref name="index"/>.</summary>
    public bool this[int index]
    {
        get
        {
            CheckIndex(index);
            return (_words[index >> 6] & (HighBit >> index)) != 0;
        }
        set
        {
            if (value)
            {
                Set(index);
            }
            else
            {
                Clear(index);
            }
        }
    }

    /// <summary>The wire length of a bitfield of <paramref name="length"/> bits.</summary>
    public static int WireLengthFor(int length) => (int)(((uint)length + 7) >> 3);

    /// <summary>Sets bit <paramref name="index"/>; returns false when it was already set.</summary>
    public bool Set(int index)
    {
        CheckIndex(index);
        ref var word = ref _words[index >> 6];
        var mask = HighBit >> index;
        if ((word & mask) != 0)
        {
            return false;
        }
        word |= mask;
        _setCount++;
        return true;
    }

    /// <summary>Clears bit <paramref name="index"/>; returns false when it was already clear.</summary>
    public bool Clear(int index)
    {
        CheckIndex(index);
        ref var word = ref _words[index >> 6];
        var mask = HighBit >> index;
        if ((word & mask) == 0)
        {
            return false;
        }
        word &= ~mask;
        _setCount--;
        return true;
    }

    /// <summary>Sets every bit.</summary>
    public void SetAll()
    {
        if (_words.Length == 0)
        {
            return;
        }
        _words.AsSpan().Fill(ulong.MaxValue);
        _words[^1] = LastWordMask;
        _setCount = Length;
    }

    /// <summary>Clears every bit.</summary>
    public void ClearAll()
    {
        _words.AsSpan().Clear();
        _setCount = 0;
    }

    /// <summary>Makes this bitfield equal to <paramref name="other"/> (same length).</summary>
    public void CopyFrom(Bitfield other)
    {
        CheckSameLength(other);
        other._words.CopyTo(_words.AsSpan());
        _setCount = other._setCount;
    }

    /// <summary>
    /// How many bits are set here and clear in <paramref name="other"/> (same length), counting no
    /// further than <paramref name="limit"/>: the pieces we could offer a peer, when all that
    /// matters is whether there are at least that many.
    /// </summary>
    public int CountSetNotIn(Bitfield other, int limit)
    {
        CheckSameLength(other);
        var count = 0;
        for (var w = 0; w < _words.Length && count < limit; w++)
        {
            count += BitOperations.PopCount(_words[w] & ~other._words[w]);
        }
        return Math.Min(count, limit);
    }

    /// <summary>A copy of this bitfield.</summary>
    public Bitfield Clone()
    {
        var copy = new Bitfield(Length);
        copy.CopyFrom(this);
        return copy;
    }

    /// <summary>The lowest set bit at or after <paramref name="start"/>, or -1.</summary>
    public int NextSet(int start)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        if (start >= Length)
        {
            return -1;
        }
        var w = start >> 6;
        var word = _words[w] & (ulong.MaxValue >> (start & 63));
        while (true)
        {
            if (word != 0)
            {
                // Bits past Length are zero, so any set bit found is in range.
                return (w << 6) + BitOperations.LeadingZeroCount(word);
            }
            if (++w == _words.Length)
            {
                return -1;
            }
            word = _words[w];
        }
    }

    /// <summary>The lowest clear bit at or after <paramref name="start"/>, or -1.</summary>
    public int NextClear(int start)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        if (start >= Length)
        {
            return -1;
        }
        var w = start >> 6;
        var word = ~_words[w] & (ulong.MaxValue >> (start & 63));
        while (true)
        {
            if (w == _words.Length - 1)
            {
                word &= LastWordMask;
            }
            if (word != 0)
            {
                return (w << 6) + BitOperations.LeadingZeroCount(word);
            }
            if (++w == _words.Length)
            {
                return -1;
            }
            word = ~_words[w];
        }
    }

    /// <summary>The lowest set bit, or -1.</summary>
    public int FirstSet() => NextSet(0);

    /// <summary>The lowest clear bit, or -1 when the bitfield is full.</summary>
    public int FirstClear() => NextClear(0);

    /// <summary>The set bits in ascending order, without allocating. Do not modify the bitfield while iterating.</summary>
    public BitEnumerator SetBits() => new(this, set: true);

    /// <summary>The clear bits in ascending order, without allocating. Do not modify the bitfield while iterating.</summary>
    public BitEnumerator ClearBits() => new(this, set: false);

    /// <summary>Writes the wire form (<see cref="WireLength"/> bytes, spare bits zero); returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        var length = WireLength;
        if (destination.Length < length)
        {
            throw new ArgumentException($"The bitfield needs {length} bytes.", nameof(destination));
        }
        var full = length >> 3;
        for (var w = 0; w < full; w++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination[(w << 3)..], _words[w]);
        }
        for (var i = full << 3; i < length; i++)
        {
            destination[i] = (byte)(_words[i >> 3] >> (56 - ((i & 7) << 3)));
        }
        return length;
    }

    /// <summary>
    /// Replaces the content with the wire form in <paramref name="source"/>, which must be exactly
    /// <see cref="WireLength"/> bytes with the spare bits of the last byte zero; otherwise throws
    /// <see cref="ProtocolException"/> and leaves the bitfield unchanged.
    /// </summary>
    public void ReadFrom(ReadOnlySpan<byte> source)
    {
        var length = WireLength;
        if (source.Length != length)
        {
            throw new ProtocolException(PeerErrorCode.ProtocolViolation, $"bitfield of {Length} pieces must be {length} bytes, got {source.Length}");
        }
        if (length > 0)
        {
            CheckSpareBits(source[^1]);
        }
        _words.AsSpan().Clear();
        var full = length >> 3;
        for (var w = 0; w < full; w++)
        {
            _words[w] = BinaryPrimitives.ReadUInt64BigEndian(source[(w << 3)..]);
        }
        for (var i = full << 3; i < length; i++)
        {
            _words[i >> 3] |= (ulong)source[i] << (56 - ((i & 7) << 3));
        }
        Recount();
    }

    /// <summary>As <see cref="ReadFrom(ReadOnlySpan{byte})"/>, from a possibly segmented buffer (for example a pipe's).</summary>
    public void ReadFrom(in ReadOnlySequence<byte> source)
    {
        if (source.IsSingleSegment)
        {
            ReadFrom(source.FirstSpan);
            return;
        }
        var length = WireLength;
        if (source.Length != length)
        {
            throw new ProtocolException(PeerErrorCode.ProtocolViolation, $"bitfield of {Length} pieces must be {length} bytes, got {source.Length}");
        }
        if (length > 0)
        {
            Span<byte> last = stackalloc byte[1];
            source.Slice(length - 1).CopyTo(last);
            CheckSpareBits(last[0]);
        }
        _words.AsSpan().Clear();
        var i = 0;
        foreach (var segment in source)
        {
            foreach (var b in segment.Span)
            {
                _words[i >> 3] |= (ulong)b << (56 - ((i & 7) << 3));
                i++;
            }
        }
        Recount();
    }

    /// <summary>Decodes a wire bitfield of <paramref name="length"/> bits (throws <see cref="ProtocolException"/> when malformed).</summary>
    public static Bitfield FromWire(ReadOnlySpan<byte> source, int length)
    {
        var bits = new Bitfield(length);
        bits.ReadFrom(source);
        return bits;
    }

    /// <summary>The set bits as a compact string of 0 and 1 (for tests and logs of small bitfields).</summary>
    public override string ToString()
    {
        if (Length > 256)
        {
            return $"Bitfield({SetCount}/{Length})";
        }
        return string.Create(Length, this, static (chars, bits) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = bits[i] ? '1' : '0';
            }
        });
    }

    /// <summary>The mask of the valid bits of the last word.</summary>
    private ulong LastWordMask => (Length & 63) == 0 ? ulong.MaxValue : ~(ulong.MaxValue >> (Length & 63));

    private void CheckSpareBits(byte last)
    {
        var used = Length & 7;
        if (used != 0 && (last & (0xFF >> used)) != 0)
        {
            throw new ProtocolException(PeerErrorCode.ProtocolViolation, "bitfield has spare bits set");
        }
    }

    private void Recount()
    {
        var count = 0;
        foreach (var word in _words)
        {
            count += BitOperations.PopCount(word);
        }
        _setCount = count;
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"piece index must be in [0, {Length})");
        }
    }

    internal void CheckSameLength(Bitfield other)
    {
        if (other.Length != Length)
        {
            throw new ArgumentException($"bitfield lengths differ: {other.Length} and {Length}", nameof(other));
        }
    }

    /// <summary>Enumerates set or clear bits in ascending order.</summary>
    public struct BitEnumerator
    {
        private readonly Bitfield _bits;
        private readonly bool _set;
        private int _current;

        internal BitEnumerator(Bitfield bits, bool set)
        {
            _bits = bits;
            _set = set;
            _current = -1;
        }

        /// <summary>The current bit index.</summary>
        public readonly int Current => _current;

        /// <summary>Returns this enumerator (so it works in <c>foreach</c>).</summary>
        public readonly BitEnumerator GetEnumerator() => this;

        /// <summary>Advances to the next matching bit.</summary>
        public bool MoveNext()
        {
            var next = _current + 1;
            if (next >= _bits.Length)
            {
                _current = _bits.Length;
                return false;
            }
            _current = _set ? _bits.NextSet(next) : _bits.NextClear(next);
            if (_current < 0)
            {
                _current = _bits.Length;
                return false;
            }
            return true;
        }
    }
}
