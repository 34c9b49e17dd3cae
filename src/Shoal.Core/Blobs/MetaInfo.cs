using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shoal.Core.Blobs;

/// <summary>
/// What a peer needs to download a blob piece by piece: its digest and length, the piece length,
/// and one SHA-256 chaining value per piece. <see cref="InfoHash"/> identifies the swarm of the blob.
/// </summary>
/// <remarks>
/// Entry <c>i</c> is the state of the blob's own SHA-256 after the first <c>i + 1</c> pieces
/// (<see cref="Sha256Chain"/>); the last entry is the blob's digest. A piece is verified by hashing
/// it on from the entry before it and comparing with its own entry, so pieces are checked
/// independently, in any order, and once all are, the whole blob has provably hashed to its digest:
/// every byte is hashed once, with no second pass over the finished file. Forging a piece that
/// passes would take a preimage of SHA-256's compression function.
/// </remarks>
public sealed class MetaInfo
{
    /// <summary>The piece-hashing scheme named in the JSON form.</summary>
    public const string PieceHashing = "sha256-chain";

    private readonly byte[] _chain;

    /// <param name="chain">One 32-byte chaining value per piece, the last being the digest.</param>
    /// <exception cref="ArgumentException">The values do not fit the length, or do not end in the digest.</exception>
    public MetaInfo(Digest digest, long length, int pieceLength, byte[] chain)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        ArgumentNullException.ThrowIfNull(chain);
        ThrowIfNotWholeBlocks(pieceLength);
        var count = PieceCountFor(length, pieceLength);
        if (chain.Length != count * Sha256Chain.ValueSize)
        {
            throw new ArgumentException($"expected {count} chaining values for {length} bytes in pieces of {pieceLength}, got {chain.Length / (double)Sha256Chain.ValueSize}", nameof(chain));
        }
        Span<byte> expected = stackalloc byte[Sha256Chain.ValueSize];
        Convert.FromHexString(digest.Hex, expected, out _, out _);
        var last = count == 0 ? SHA256.HashData(ReadOnlySpan<byte>.Empty) : chain.AsSpan((count - 1) * Sha256Chain.ValueSize);
        if (!last.SequenceEqual(expected))
        {
            throw new ArgumentException(count == 0
                ? $"an empty blob's digest is the SHA-256 of nothing, not {digest}"
                : $"the last chaining value is not the digest {digest}", nameof(chain));
        }
        Digest = digest;
        Length = length;
        PieceLength = pieceLength;
        _chain = chain;
        InfoHash = ComputeInfoHash();
    }

    /// <summary>The blob's content digest.</summary>
    public Digest Digest { get; }

    /// <summary>The blob's length in bytes.</summary>
    public long Length { get; }

    /// <summary>The length of every piece but the last, in bytes.</summary>
    public int PieceLength { get; }

    /// <summary>The number of pieces (0 for an empty blob).</summary>
    public int PieceCount => _chain.Length / Sha256Chain.ValueSize;

    /// <summary>
    /// SHA-256 over the canonical binary form of (scheme, digest, length, piece length, chaining values),
    /// as lowercase hex: stable across processes and versions of this type.
    /// </summary>
    public string InfoHash { get; }

    /// <summary>The chaining value after piece <paramref name="index"/> (for the last piece, the digest).</summary>
    public ReadOnlySpan<byte> ChainingValue(int index) => _chain.AsSpan(index * Sha256Chain.ValueSize, Sha256Chain.ValueSize);

    /// <summary>The byte offset of piece <paramref name="index"/> in the blob.</summary>
    public long PieceOffset(int index) => (long)index * PieceLength;

    /// <summary>The length of piece <paramref name="index"/> (the last may be shorter).</summary>
    public int PieceSize(int index) => (int)Math.Min(PieceLength, Length - PieceOffset(index));

    /// <summary>
    /// True when <paramref name="data"/> is piece <paramref name="index"/>: hashed on from the previous
    /// piece's chaining value it reaches its own (the last piece, padded, reaches the digest).
    /// </summary>
    public bool VerifyPiece(int index, ReadOnlySpan<byte> data)
    {
        if ((uint)index >= (uint)PieceCount || data.Length != PieceSize(index))
        {
            return false;
        }
        var previous = index == 0 ? ReadOnlySpan<byte>.Empty : ChainingValue(index - 1);
        Span<byte> value = stackalloc byte[Sha256Chain.ValueSize];
        if (index == PieceCount - 1)
        {
            Sha256Chain.Finish(previous, PieceOffset(index), data, value);
        }
        else
        {
            Sha256Chain.Advance(previous, data, value);
        }
        return CryptographicOperations.FixedTimeEquals(value, ChainingValue(index));
    }

    /// <summary>Refuses a piece length that is not a whole number of SHA-256 blocks (no chaining value ends such a piece).</summary>
    internal static void ThrowIfNotWholeBlocks(int pieceLength)
    {
        if (pieceLength % Sha256Chain.BlockSize != 0)
        {
            throw new ArgumentException($"piece length {pieceLength} is not a multiple of the SHA-256 block ({Sha256Chain.BlockSize} bytes)", nameof(pieceLength));
        }
    }

    /// <summary>The number of pieces a blob of this length has.</summary>
    public static int PieceCountFor(long length, int pieceLength) => checked((int)((length + pieceLength - 1) / pieceLength));

    /// <summary>Serializes to the JSON document served by origins and trackers.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(
        new Wire(Digest.ToString(), Length, PieceLength, PieceHashing, Convert.ToBase64String(_chain), InfoHash),
        MetaInfoJsonContext.Default.Wire);

    /// <summary>Parses and validates the JSON form; throws <see cref="FormatException"/> when it is inconsistent.</summary>
    public static MetaInfo FromJson(ReadOnlySpan<byte> json)
    {
        Wire? wire;
        try
        {
            wire = JsonSerializer.Deserialize(json, MetaInfoJsonContext.Default.Wire);
        }
        catch (JsonException ex)
        {
            throw new FormatException("metainfo is not valid JSON", ex);
        }
        if (wire is null || wire.Digest is null)
        {
            throw new FormatException("metainfo is missing fields");
        }
        if (!string.Equals(wire.PieceHashing, PieceHashing, StringComparison.Ordinal))
        {
            // An earlier version hashed each piece on its own ("pieceHashes", no "chain"): not
            // verifiable here. Said before the missing chain, which is only its consequence.
            throw new FormatException($"metainfo piece hashing is '{wire.PieceHashing ?? "(none)"}', expected '{PieceHashing}'");
        }
        if (wire.Chain is null)
        {
            throw new FormatException("metainfo is missing fields");
        }
        byte[] chain;
        try
        {
            chain = Convert.FromBase64String(wire.Chain);
        }
        catch (FormatException ex)
        {
            throw new FormatException("metainfo chaining values are not base64", ex);
        }
        MetaInfo info;
        try
        {
            info = new MetaInfo(Digest.Parse(wire.Digest), wire.Length, wire.PieceLength, chain);
        }
        catch (ArgumentException ex)
        {
            throw new FormatException("metainfo is inconsistent: " + ex.Message, ex);
        }
        if (wire.InfoHash is not null && !string.Equals(wire.InfoHash, info.InfoHash, StringComparison.Ordinal))
        {
            throw new FormatException("metainfo info hash does not match its content");
        }
        return info;
    }

    private string ComputeInfoHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("shoal-metainfo-v2 sha256-chain\n"u8);
        hash.AppendData(Encoding.ASCII.GetBytes(Digest.ToString()));
        Span<byte> numbers = stackalloc byte[12];
        BinaryPrimitives.WriteInt64BigEndian(numbers, Length);
        BinaryPrimitives.WriteInt32BigEndian(numbers[8..], PieceLength);
        hash.AppendData(numbers);
        hash.AppendData(_chain);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    internal sealed record Wire(
        [property: JsonPropertyName("digest")] string? Digest,
        [property: JsonPropertyName("length")] long Length,
        [property: JsonPropertyName("pieceLength")] int PieceLength,
        [property: JsonPropertyName("pieceHashing")] string? PieceHashing,
        [property: JsonPropertyName("chain")] string? Chain,
        [property: JsonPropertyName("infoHash")] string? InfoHash);
}

[JsonSerializable(typeof(MetaInfo.Wire))]
internal sealed partial class MetaInfoJsonContext : JsonSerializerContext;
