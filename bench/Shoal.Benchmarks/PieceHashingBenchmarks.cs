using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.Benchmarks;

/// <summary>
/// SHA-256 of one piece, as every peer computes it for every piece it receives (verification) and
/// every origin for every piece it stores (metainfo). One core; the GB/s column is the rate.
/// Target: at least 1.5 GB/s on a core with the SHA extensions.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class PieceHashingBenchmarks
{
    private readonly byte[] _hash = new byte[SHA256.HashSizeInBytes];
    private byte[] _piece = [];
    private MetaInfo? _info;
    private BlobHasher? _hasher;

    /// <summary>The piece length: 64 KiB (the smallest the policy picks), 256 KiB, 1 MiB, 4 MiB.</summary>
    [Params(64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _piece = new byte[Bytes];
        new Random(1).NextBytes(_piece);
        var pieceHash = SHA256.HashData(_piece);
        _info = new MetaInfo(Digest.FromSha256(pieceHash), Bytes, Bytes, pieceHash);
        // A hasher for a long blob, so Append never reaches Complete.
        _hasher = new BlobHasher(1L << 40);
    }

    [GlobalCleanup]
    public void Cleanup() => _hasher?.Dispose();

    /// <summary>The primitive: SHA-256 of the whole piece into a reused buffer.</summary>
    [Benchmark(Baseline = true)]
    public byte Sha256()
    {
        SHA256.HashData(_piece, _hash);
        return _hash[0];
    }

    /// <summary>What a peer does with a received piece: hash it and compare with the metainfo.</summary>
    [Benchmark]
    public bool VerifyPiece() => _info!.VerifyPiece(0, _piece);

    /// <summary>
    /// What a store does while a blob streams in: the whole-blob digest and the piece hashes in one
    /// pass, so each byte is hashed twice (expect about half the rate of <see cref="Sha256"/>).
    /// </summary>
    [Benchmark]
    public long BlobHasherAppend()
    {
        _hasher!.Append(_piece);
        return _hasher.Length;
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn());
    }
}
