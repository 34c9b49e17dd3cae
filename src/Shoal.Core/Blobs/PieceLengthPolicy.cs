using System.Numerics;

namespace Shoal.Core.Blobs;

/// <summary>
/// Chooses a blob's piece length from its size. Every component of a cluster must agree on it,
/// because the piece length is part of the blob's identity in the swarm (<see cref="MetaInfo.InfoHash"/>).
/// </summary>
/// <remarks>
/// The length is the power of two nearest above <c>size / TargetPieceCount</c>, clamped to
/// [<see cref="MinPieceLength"/>, <see cref="MaxPieceLength"/>]: a 64 MiB layer gets 256 KiB
/// pieces (256 of them, enough to keep many peers busy), a 1 GiB layer 1 MiB, and a 20 GiB layer
/// 16 MiB (1,280 pieces, so the bitfield stays small).
/// </remarks>
public static class PieceLengthPolicy
{
    /// <summary>Smallest piece: 256 KiB, below which per-piece overhead dominates.</summary>
    public const int MinPieceLength = 256 * 1024;

    /// <summary>Largest piece: 16 MiB, above which one slow peer holds back too much data.</summary>
    public const int MaxPieceLength = 16 * 1024 * 1024;

    /// <summary>The number of pieces the policy aims at.</summary>
    public const long TargetPieceCount = 1024;

    /// <summary>The piece length for a blob of <paramref name="blobLength"/> bytes.</summary>
    public static int For(long blobLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blobLength);
        var wanted = Math.Max(1, blobLength / TargetPieceCount);
        var pow2 = BitOperations.RoundUpToPowerOf2((ulong)wanted);
        return (int)Math.Clamp(pow2, (ulong)MinPieceLength, (ulong)MaxPieceLength);
    }
}
