using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.Benchmarks;

/// <summary>
/// Hashing one piece, as every peer does for every piece it receives (verification against the
/// metainfo's chaining values) and every store for every blob it writes (digest and metainfo in
/// one pass). One core; the GB/s column is the rate. Target: at least 1.5 GB/s on a core with the
/// SHA extensions.
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
        // A blob of two such pieces: piece 0 is verified the way every piece but the last is.
        var hasher = new BlobHasher(2L * Bytes, Bytes);
        hasher.Append(_piece);
        hasher.Append(_piece);
        _info = hasher.Complete().MetaInfo;
        // A hasher for a long blob, so Append never reaches Complete.
        _hasher = new BlobHasher(1L << 40);
    }

    /// <summary>The primitive: SHA-256 of the whole piece into a reused buffer.</summary>
    [Benchmark(Baseline = true)]
    public byte Sha256()
    {
        SHA256.HashData(_piece, _hash);
        return _hash[0];
    }

    /// <summary>What a peer does with a received piece: hash it on from the previous chaining value and compare with its own.</summary>
    [Benchmark]
    public bool VerifyPiece() => _info!.VerifyPiece(0, _piece);

    /// <summary>
    /// What a store does while a blob streams in: one SHA-256 pass that keeps the chaining value at
    /// every piece boundary, so each byte is hashed once (expect about the rate of <see cref="Sha256"/>).
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
