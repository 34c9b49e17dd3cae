using System.Numerics;

namespace Shoal.Core.Blobs;

/// <summary>
/// Chooses a blob's piece length from its size. Every component of a cluster must agree on it,
/// because the piece length is part of the blob's identity in the swarm (<see cref="MetaInfo.InfoHash"/>).
/// </summary>
/// <remarks>
/// The length is the power of two nearest above <c>size / TargetPieceCount</c>, clamped to
/// [<see cref="MinPieceLength"/>, <see cref="MaxPieceLength"/>]: a 64 MiB layer gets 64 KiB
/// pieces (1,024), a 256 MiB layer 128 KiB and a 1 GiB layer 512 KiB (2,048 pieces each), and a
/// 20 GiB layer 16 MiB (1,280 pieces, so the bitfield and the metainfo stay small). Small pieces
/// matter for the swarm's speed: a piece can be passed on only once it is whole and verified, so
/// the pieces an origin is sending at once (one per agent) are what every agent trails the origin
/// by, at the start and again at the end. With 64 KiB instead of 256 KiB pieces a 64 MiB blob
/// reached 8 agents 4-6 % sooner; with 128 KiB instead of 256 KiB a 256 MiB blob about 1.5 %
/// sooner, where 64 KiB was no faster than 128 KiB and cost more CPU (docs/benchmarks.md).
/// </remarks>
public static class PieceLengthPolicy
{
    /// <summary>Smallest piece: 64 KiB, below which per-piece overhead (a hash, a Have to every peer, a request round trip) dominates.</summary>
    public const int MinPieceLength = 64 * 1024;

    /// <summary>Largest piece: 16 MiB, above which one slow peer holds back too much data.</summary>
    public const int MaxPieceLength = 16 * 1024 * 1024;

    /// <summary>The number of pieces the policy aims at.</summary>
    public const long TargetPieceCount = 2048;

    /// <summary>The piece length for a blob of <paramref name="blobLength"/> bytes.</summary>
    public static int For(long blobLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blobLength);
        var wanted = Math.Max(1, blobLength / TargetPieceCount);
        var pow2 = BitOperations.RoundUpToPowerOf2((ulong)wanted);
        return (int)Math.Clamp(pow2, (ulong)MinPieceLength, (ulong)MaxPieceLength);
    }
}
