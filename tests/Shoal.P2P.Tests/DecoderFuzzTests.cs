using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using Shoal.P2P.Protocol;
using Xunit.Abstractions;

namespace Shoal.P2P.Tests;

/// <summary>
/// Throws random, truncated, oversized and mutated input at <see cref="MessageReader"/>: it may only
/// decode valid messages, ask for more data, or throw <see cref="ProtocolException"/> — never
/// another exception (an out-of-range read would surface as one), and never allocate more than a
/// small bound however large a length the input claims.
/// </summary>
public sealed class DecoderFuzzTests(ITestOutputHelper output)
{
    private const int Iterations = 100_000;

    /// <summary>
    /// The most one TryRead may allocate: a handshake's strings or an Error's text, or a thrown
    /// ProtocolException with its message — far below the smallest oversized claim (a 1 MiB block).
    /// </summary>
    private const long AllocationBound = 8 * 1024;

    private static readonly int[] PieceCounts = [0, 1, 8, 9, 1000];

    [Fact]
    public void TryRead_FuzzedInput_DecodesValidMessagesOrThrowsOnlyProtocolExceptionWithinAllocationBound()
    {
        var random = new Random(0x5140A1);
        var corpus = Enumerable.Range(0, 64).Select(i => ValidStream(random, PieceCounts[i % PieceCounts.Length], fromStart: i % 2 == 0)).ToList();
        var stats = new Stats();
        var watch = Stopwatch.StartNew();

        for (var i = 0; i < Iterations; i++)
        {
            var sample = corpus[random.Next(corpus.Count)];
            var kind = random.Next(5);
            var input = kind switch
            {
                0 => RandomBytes(random, random.Next(0, 48)),
                1 => Mutate(random, sample.Bytes),
                2 => sample.Bytes.AsSpan(0, random.Next(0, sample.Bytes.Length)).ToArray(),
                3 => RandomHeader(random),
                _ => sample.Bytes,
            };
            var fromStart = kind == 0 || kind == 3 ? random.Next(2) == 0 : sample.FromStart;
            Func<MessageReader> newReader = fromStart ? () => new MessageReader() : () => TestData.OpenReader(sample.PieceCount);
            var buffer = random.Next(3) == 0 ? TestData.Segmented(input, random) : new ReadOnlySequence<byte>(input);

            var threw = Run(newReader, buffer, stats);

            if (kind is 2 or 4)
            {
                // Truncating a valid stream only ever leaves a partial frame; an intact one decodes fully.
                Assert.False(threw, $"iteration {i}: a valid stream (kind {kind}) threw");
            }
        }

        output.WriteLine($"{Iterations} inputs in {watch.ElapsedMilliseconds} ms: {stats.Messages} messages, {stats.Exceptions} protocol exceptions, {stats.Incomplete} incomplete, max {stats.MaxAllocation} bytes allocated by one call, {stats.Remeasured} calls measured again");
        Assert.True(stats.Remeasured < 10, $"{stats.Remeasured} calls allocated once and not again");
        Assert.True(stats.Messages > Iterations, "valid frames were decoded");
        Assert.True(stats.Exceptions > Iterations / 10, "invalid frames were rejected");
        Assert.True(stats.Incomplete > Iterations / 10, "partial frames were waited for");
    }

    private static bool Run(Func<MessageReader> newReader, ReadOnlySequence<byte> input, Stats stats)
    {
        var reader = newReader();
        var buffer = input;
        for (var call = 0; ; call++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var lengthBefore = buffer.Length;
            bool decoded;
            PeerMessage message;
            try
            {
                decoded = reader.TryRead(ref buffer, out message);
            }
            catch (ProtocolException)
            {
                var thrownAllocation = GC.GetAllocatedBytesForCurrentThread() - before;
                stats.MaxAllocation = Math.Max(stats.MaxAllocation, thrownAllocation);
                Assert.True(thrownAllocation <= AllocationBound, $"a rejected frame allocated {thrownAllocation} bytes");
                Assert.Equal(MessageReaderState.Closed, reader.State);
                stats.Exceptions++;
                return true;
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            stats.MaxAllocation = Math.Max(stats.MaxAllocation, allocated);
            var mayAllocate = decoded && message.Type is MessageType.Handshake or MessageType.Error;
            if (allocated != 0 && !mayAllocate)
            {
                // Now and then the runtime allocates on this thread in the middle of a call (about
                // 1.6 KB, once in some runs of the suite: a method compiled or a type loaded at a
                // moment that depends on background tiering). The decoder's own allocations happen
                // on every decode of the same bytes: decode them again and measure this call alone.
                allocated = AllocatedBy(newReader, input, call);
                stats.Remeasured++;
            }
            if (!decoded)
            {
                Assert.Equal(lengthBefore, buffer.Length);
                Assert.Equal(0, allocated);
                stats.Incomplete++;
                return false;
            }
            stats.Messages++;
            if (mayAllocate)
            {
                Assert.True(allocated <= AllocationBound, $"a {message.Type} allocated {allocated} bytes");
            }
            else
            {
                Assert.Equal(0, allocated);
            }
            CheckMessage(reader, message, lengthBefore - buffer.Length);
        }
    }

    /// <summary>What call number <paramref name="call"/> of a fresh decode of <paramref name="input"/> allocates.</summary>
    private static long AllocatedBy(Func<MessageReader> newReader, ReadOnlySequence<byte> input, int call)
    {
        var reader = newReader();
        for (var i = 0; ; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            reader.TryRead(ref input, out _);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (i == call)
            {
                return allocated;
            }
        }
    }

    private static void CheckMessage(MessageReader reader, PeerMessage message, long consumed)
    {
        Assert.InRange(consumed, ProtocolConstants.HeaderLength, ProtocolConstants.LengthPrefixLength + ProtocolConstants.MaxFrameLength);
        switch (message.Type)
        {
            case MessageType.HavePiece:
                Assert.InRange(message.PieceIndex, 0, reader.PieceCount - 1);
                break;
            case MessageType.Request:
            case MessageType.Cancel:
                Assert.InRange(message.PieceIndex, 0, reader.PieceCount - 1);
                Assert.InRange(message.Offset, 0, int.MaxValue - message.Length);
                Assert.InRange(message.Length, 1, ProtocolConstants.MaxBlockLength);
                break;
            case MessageType.Piece:
                Assert.InRange(message.PieceIndex, 0, reader.PieceCount - 1);
                Assert.InRange(message.Length, 1, ProtocolConstants.MaxBlockLength);
                Assert.Equal(message.Length, message.Data.Length);
                Assert.Equal(consumed, PieceMessage.HeaderLength + message.Length);
                break;
            case MessageType.Bitfield:
                Assert.Equal(Bitfield.WireLengthFor(reader.PieceCount), message.Data.Length);
                new Bitfield(reader.PieceCount).ReadFrom(message.Data);
                break;
            case MessageType.Handshake:
                Assert.InRange(message.Handshake.PieceCount, 0, ProtocolConstants.MaxPieceCount);
                break;
            case MessageType.Error:
                Assert.Equal(MessageReaderState.Closed, reader.State);
                break;
            default:
                Assert.Equal(ProtocolConstants.HeaderLength, consumed);
                break;
        }
    }

    private static (byte[] Bytes, int PieceCount, bool FromStart) ValidStream(Random random, int pieceCount, bool fromStart)
    {
        var parts = new List<byte[]>();
        if (fromStart)
        {
            var bits = new Bitfield(pieceCount);
            for (var i = 0; i < pieceCount; i++)
            {
                if (random.Next(2) == 0)
                {
                    bits.Set(i);
                }
            }
            parts.Add(TestData.Encode(TestData.Handshake(pieceCount, ns: random.Next(2) == 0 ? "" : "team/app")));
            parts.Add(TestData.Encode(new BitfieldMessage(bits)));
        }
        for (var m = random.Next(1, 8); m > 0; m--)
        {
            var index = pieceCount == 0 ? -1 : random.Next(pieceCount);
            var choice = index < 0 ? random.Next(5, 8) : random.Next(8);
            parts.Add(choice switch
            {
                0 => TestData.Encode(new HavePieceMessage(index)),
                1 => TestData.Encode(new RequestMessage(index, random.Next(1 << 20), random.Next(1, ProtocolConstants.MaxBlockLength + 1))),
                2 => TestData.Encode(new CancelMessage(index, random.Next(1 << 20), random.Next(1, 1 << 16))),
                3 or 4 => PieceFrame(random, index),
                5 => TestData.Encode(new CompleteMessage()),
                6 => TestData.Encode(new KeepAliveMessage()),
                _ => TestData.Encode(new KeepAliveMessage()),
            });
        }
        if (random.Next(4) == 0)
        {
            // An Error is always the last frame.
            parts.Add(TestData.Encode(new ErrorMessage(PeerErrorCode.Busy, "busy")));
        }
        return (TestData.Concat([.. parts]), pieceCount, fromStart);
    }

    private static byte[] PieceFrame(Random random, int index)
    {
        var data = RandomBytes(random, random.Next(1, 40));
        var header = new PieceMessage(index, random.Next(1 << 20), data.Length);
        var frame = new byte[header.ByteLength];
        header.Encode(frame, data);
        return frame;
    }

    private static byte[] Mutate(Random random, byte[] valid)
    {
        var bytes = new List<byte>(valid);
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var at = random.Next(bytes.Count + 1);
            switch (random.Next(4))
            {
                case 0 when at < bytes.Count:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1 when at < bytes.Count:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2 when at < bytes.Count:
                    bytes.RemoveAt(at);
                    break;
                default:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
            }
        }
        return [.. bytes];
    }

    private static byte[] RandomHeader(Random random)
    {
        uint[] lengths = [0, 1, 2, 5, 13, 112, 4096, 4097, ProtocolConstants.MaxFrameLength, ProtocolConstants.MaxFrameLength + 1, 1u << 24, int.MaxValue, uint.MaxValue];
        var tail = RandomBytes(random, random.Next(0, 32));
        var bytes = new byte[5 + tail.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, random.Next(2) == 0 ? lengths[random.Next(lengths.Length)] : (uint)random.NextInt64(0, 1L << 32));
        bytes[4] = (byte)(random.Next(2) == 0 ? random.Next(1, 10) : random.Next(256));
        tail.CopyTo(bytes, 5);
        return bytes;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private sealed class Stats
    {
        public long Messages { get; set; }

        public long Exceptions { get; set; }

        public long Incomplete { get; set; }

        public long MaxAllocation { get; set; }

        public long Remeasured { get; set; }
    }
}
