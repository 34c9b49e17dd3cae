using System.Buffers;
using Shoal.Core;
using Shoal.Core.Blobs;
using Shoal.P2P.Protocol;

namespace Shoal.P2P.Tests;

/// <summary>Blobs, metainfo and buffers for the protocol tests.</summary>
internal static class TestData
{
    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static MetaInfo MetaInfoFor(byte[] blob, int pieceLength)
    {
        var hasher = new BlobHasher(blob.Length, pieceLength);
        hasher.Append(blob);
        return hasher.Complete().MetaInfo!;
    }

    public static HandshakeMessage Handshake(int pieceCount, string? ns = "library/ubuntu", PeerFlags flags = PeerFlags.None, int version = ProtocolConstants.CurrentVersion)
        => new(version, flags, new string('a', 64), Digest.Compute("blob"u8), PeerId.FromBytes(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()), pieceCount, ns);

    public static byte[] Encode<T>(T message)
        where T : IPeerMessage
    {
        var bytes = new byte[message.ByteLength];
        Assert.Equal(bytes.Length, message.Encode(bytes));
        return bytes;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A reader that has already seen a handshake for <paramref name="pieceCount"/> pieces and an empty bitfield.</summary>
    public static MessageReader OpenReader(int pieceCount)
    {
        var reader = new MessageReader();
        var bytes = Concat(Encode(Handshake(pieceCount)), Encode(new BitfieldMessage(new Bitfield(pieceCount))));
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(reader.TryRead(ref buffer, out _));
        Assert.True(reader.TryRead(ref buffer, out _));
        Assert.Equal(MessageReaderState.Open, reader.State);
        return reader;
    }

    /// <summary>Splits <paramref name="bytes"/> into a multi-segment sequence at random cut points (empty segments included).</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, Random random, int maxSegments = 6)
    {
        var cuts = Enumerable.Range(0, random.Next(1, maxSegments + 1)).Select(_ => random.Next(0, bytes.Length + 1)).Order().ToList();
        Segment? first = null;
        Segment? last = null;
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            var memory = bytes.AsMemory(start, cut - start);
            if (first is null)
            {
                first = last = new Segment(memory, 0);
            }
            else
            {
                last = last!.Append(memory);
            }
            start = cut;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
