using System.Buffers;
using Shoal.P2P.Protocol;
using Shoal.P2P.Scheduling;

namespace Shoal.P2P.Tests;

public sealed class AllocationTests
{
    private const int Rounds = 10_000;

    [Fact]
    public void EncodeAndDecode_ControlMessagesAndPieceHeaders_AllocateNothing()
    {
        var reader = TestData.OpenReader(1000);
        var scratch = new byte[64];
        var data = new byte[16];
        var mismatches = 0;
        RunRounds(100);

        var before = GC.GetAllocatedBytesForCurrentThread();
        RunRounds(Rounds);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, mismatches);
        Assert.Equal(0, allocated);

        void RunRounds(int rounds)
        {
            for (var i = 0; i < rounds; i++)
            {
                mismatches += RoundTrip(new HavePieceMessage(i % 1000), MessageType.HavePiece);
                mismatches += RoundTrip(new RequestMessage(i % 1000, i, 1 + (i % 4096)), MessageType.Request);
                mismatches += RoundTrip(new CancelMessage(i % 1000, i, 1 + (i % 4096)), MessageType.Cancel);
                mismatches += RoundTrip(new CompleteMessage(), MessageType.Complete);
                mismatches += RoundTrip(new KeepAliveMessage(), MessageType.KeepAlive);
                var length = new PieceMessage(i % 1000, i, data.Length).Encode(scratch, data);
                var buffer = new ReadOnlySequence<byte>(scratch, 0, length);
                if (!reader.TryRead(ref buffer, out var message) || message.Type != MessageType.Piece || message.Data.Length != data.Length)
                {
                    mismatches++;
                }
            }
        }

        int RoundTrip<T>(T sent, MessageType type)
            where T : IPeerMessage
        {
            var length = sent.Encode(scratch);
            var buffer = new ReadOnlySequence<byte>(scratch, 0, length);
            return reader.TryRead(ref buffer, out var message) && message.Type == type && buffer.IsEmpty ? 0 : 1;
        }
    }

    [Fact]
    public void Bitfield_WriteToAndReadFrom_AllocateNothing()
    {
        var bits = new Bitfield(1000);
        bits.Set(17);
        var copy = new Bitfield(1000);
        var wire = new byte[bits.WireLength];
        var sequence = new ReadOnlySequence<byte>(wire);
        var scratch = new byte[5 + wire.Length];
        RunRounds(10);

        var before = GC.GetAllocatedBytesForCurrentThread();
        RunRounds(Rounds);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(copy[17]);
        Assert.Equal(1, copy.SetCount);

        void RunRounds(int rounds)
        {
            for (var i = 0; i < rounds; i++)
            {
                new BitfieldMessage(bits).Encode(scratch);
                bits.WriteTo(wire);
                copy.ReadFrom(sequence);
                foreach (var index in copy.SetBits())
                {
                    _ = index;
                }
            }
        }
    }

    [Fact]
    public void PiecePicker_PickAndMarkHave_AllocateNothing()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var picks = new int[4];
        var mismatches = 0;
        PiecePicker NewPicker(out PickerPeer peer)
        {
            var picker = new PiecePicker(1000, new Random(1), time);
            peer = picker.AddPeer(isOrigin: false);
            picker.PeerHasAll(peer);
            picker.SetFrontier(500);
            return picker;
        }
        var warm = NewPicker(out var warmPeer);
        Drain(warm, warmPeer);
        var picker = NewPicker(out var peer);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Drain(picker, peer);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(0, mismatches);
        Assert.True(picker.IsComplete);

        void Drain(PiecePicker p, PickerPeer from)
        {
            while (!p.IsComplete)
            {
                var n = p.Pick(from, picks);
                for (var i = 0; i < n; i++)
                {
                    if (!p.MarkHave(picks[i], from))
                    {
                        mismatches++;
                    }
                }
            }
        }
    }
}
