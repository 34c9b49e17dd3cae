using System.Buffers;
using Shoal.P2P.Protocol;

namespace Shoal.P2P.Tests;

public sealed class BitfieldTests
{
    public static TheoryData<int> Lengths => [0, 1, 7, 8, 9, 63, 64, 65, 1000];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void New_AnyLength_IsEmptyAndFullOnlyWhenZeroLength(int length)
    {
        var bits = new Bitfield(length);

        Assert.Equal(0, bits.SetCount);
        Assert.Equal(length, bits.ClearCount);
        Assert.True(bits.IsEmpty);
        Assert.Equal(length == 0, bits.IsFull);
        Assert.Equal(-1, bits.FirstSet());
        Assert.Equal(length == 0 ? -1 : 0, bits.FirstClear());
        Assert.Equal((length + 7) / 8, bits.WireLength);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void CountSetNotIn_AnyLength_CountsOursTheirsLack_UpToTheLimit(int length)
    {
        var random = new Random(length);
        var ours = new Bitfield(length);
        var theirs = new Bitfield(length);
        var expected = 0;
        for (var i = 0; i < length; i++)
        {
            var we = random.Next(2) == 0;
            var they = random.Next(3) == 0;
            if (we)
            {
                ours.Set(i);
            }
            if (they)
            {
                theirs.Set(i);
            }
            expected += we && !they ? 1 : 0;
        }

        Assert.Equal(expected, ours.CountSetNotIn(theirs, int.MaxValue));
        Assert.Equal(Math.Min(expected, 5), ours.CountSetNotIn(theirs, 5));
        Assert.Equal(0, ours.CountSetNotIn(ours, int.MaxValue));
        Assert.Throws<ArgumentException>(() => ours.CountSetNotIn(new Bitfield(length + 1), 1));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SetAll_AnyLength_EveryBitSetAndNoClearBit(int length)
    {
        var bits = new Bitfield(length);

        bits.SetAll();

        Assert.True(bits.IsFull);
        Assert.Equal(length, bits.SetCount);
        Assert.Equal(-1, bits.FirstClear());
        Assert.Equal(Enumerable.Range(0, length), ToList(bits.SetBits()));
        Assert.Empty(ToList(bits.ClearBits()));
        var wire = new byte[bits.WireLength];
        bits.WriteTo(wire);
        if (length % 8 != 0)
        {
            Assert.Equal(0, wire[^1] & (0xFF >> (length % 8)));
        }
    }

    [Fact]
    public void SetAndClear_ReportChangesAndKeepCount()
    {
        var bits = new Bitfield(9);

        Assert.True(bits.Set(8));
        Assert.False(bits.Set(8));
        Assert.True(bits.Set(0));
        Assert.Equal(2, bits.SetCount);
        Assert.True(bits.Clear(0));
        Assert.False(bits.Clear(0));
        Assert.Equal(1, bits.SetCount);
        Assert.True(bits[8]);
        Assert.False(bits[7]);
        Assert.Equal("000000001", bits.ToString());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(9)]
    public void Indexer_OutOfRange_Throws(int index)
    {
        var bits = new Bitfield(9);

        Assert.Throws<ArgumentOutOfRangeException>(() => bits[index]);
        Assert.Throws<ArgumentOutOfRangeException>(() => bits.Set(index));
    }

    [Fact]
    public void NextSetAndNextClear_AcrossWords_FindTheRightBits()
    {
        var bits = new Bitfield(1000);
        bits.Set(3);
        bits.Set(64);
        bits.Set(999);

        Assert.Equal(3, bits.NextSet(0));
        Assert.Equal(64, bits.NextSet(4));
        Assert.Equal(999, bits.NextSet(65));
        Assert.Equal(-1, bits.NextSet(1000));
        Assert.Equal(new[] { 3, 64, 999 }, ToList(bits.SetBits()));

        bits.SetAll();
        bits.Clear(500);
        Assert.Equal(500, bits.FirstClear());
        Assert.Equal(-1, bits.NextClear(501));
        Assert.Equal(new[] { 500 }, ToList(bits.ClearBits()));
    }

    [Fact]
    public void WriteTo_PieceZeroIsHighBitOfFirstByte()
    {
        var bits = new Bitfield(9);
        bits.Set(0);
        bits.Set(8);
        var wire = new byte[2];

        bits.WriteTo(wire);

        Assert.Equal(new byte[] { 0x80, 0x80 }, wire);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ReadFrom_WhatWriteToWrote_RoundTrips(int length)
    {
        var random = new Random(length);
        var bits = new Bitfield(length);
        for (var i = 0; i < length; i++)
        {
            if (random.Next(2) == 0)
            {
                bits.Set(i);
            }
        }
        var wire = new byte[bits.WireLength];
        bits.WriteTo(wire);

        var fromSpan = Bitfield.FromWire(wire, length);
        var fromSegments = new Bitfield(length);
        fromSegments.ReadFrom(TestData.Segmented(wire, random));

        Assert.Equal(bits.ToString(), fromSpan.ToString());
        Assert.Equal(bits.SetCount, fromSpan.SetCount);
        Assert.Equal(bits.ToString(), fromSegments.ToString());
        Assert.Equal(bits.SetCount, fromSegments.SetCount);
    }

    [Theory]
    [InlineData(1, 0x40)]
    [InlineData(9, 0x01)]
    [InlineData(1001, 0x01)]
    public void ReadFrom_SpareBitSet_ThrowsAndLeavesBitfieldUnchanged(int length, byte spare)
    {
        var bits = new Bitfield(length);
        bits.Set(0);
        var wire = new byte[bits.WireLength];
        wire[^1] = spare;

        var ex = Assert.Throws<ProtocolException>(() => bits.ReadFrom(wire));
        Assert.Throws<ProtocolException>(() => bits.ReadFrom(new ReadOnlySequence<byte>(wire)));

        Assert.Equal(PeerErrorCode.ProtocolViolation, ex.Code);
        Assert.Equal(1, bits.SetCount);
        Assert.True(bits[0]);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(8, 0)]
    [InlineData(8, 2)]
    [InlineData(9, 1)]
    public void ReadFrom_WrongLength_Throws(int length, int wireLength)
    {
        var bits = new Bitfield(length);

        Assert.Throws<ProtocolException>(() => bits.ReadFrom(new byte[wireLength]));
    }

    [Fact]
    public void CopyFromAndClone_ProduceEqualIndependentBitfields()
    {
        var bits = new Bitfield(70);
        bits.Set(69);
        var clone = bits.Clone();
        clone.Set(1);

        Assert.Equal(1, bits.SetCount);
        Assert.Equal(2, clone.SetCount);
        bits.CopyFrom(clone);
        Assert.Equal(clone.ToString(), bits.ToString());
        Assert.Throws<ArgumentException>(() => bits.CopyFrom(new Bitfield(71)));
    }

    private static List<int> ToList(Bitfield.BitEnumerator bits)
    {
        var list = new List<int>();
        foreach (var i in bits)
        {
            list.Add(i);
        }
        return list;
    }
}
