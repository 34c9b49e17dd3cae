using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shoal.Core.Blobs;

/// <summary>
/// What a peer needs to download a blob piece by piece: its digest and length, the piece length,
/// and the SHA-256 of every piece. <see cref="InfoHash"/> identifies the swarm of the blob.
/// </summary>
public sealed class MetaInfo
{
    private readonly byte[] _pieceHashes;

    public MetaInfo(Digest digest, long length, int pieceLength, byte[] pieceHashes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        var count = PieceCountFor(length, pieceLength);
        if (pieceHashes.Length != count * SHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"expected {count} piece hashes for {length} bytes in pieces of {pieceLength}, got {pieceHashes.Length / SHA256.HashSizeInBytes}", nameof(pieceHashes));
        }
        Digest = digest;
        Length = length;
        PieceLength = pieceLength;
        _pieceHashes = pieceHashes;
        InfoHash = ComputeInfoHash();
    }

    /// <summary>The blob's content digest.</summary>
    public Digest Digest { get; }

    /// <summary>The blob's length in bytes.</summary>
    public long Length { get; }

    /// <summary>The length of every piece but the last, in bytes.</summary>
    public int PieceLength { get; }

    /// <summary>The number of pieces (0 for an empty blob).</summary>
    public int PieceCount => _pieceHashes.Length / SHA256.HashSizeInBytes;

    /// <summary>
    /// SHA-256 over the canonical binary form of (digest, length, piece length, piece hashes),
    /// as lowercase hex: stable across processes and versions of this type.
    /// </summary>
    public string InfoHash { get; }

    /// <summary>The SHA-256 of piece <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> PieceHash(int index) => _pieceHashes.AsSpan(index * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes);

    /// <summary>The byte offset of piece <paramref name="index"/> in the blob.</summary>
    public long PieceOffset(int index) => (long)index * PieceLength;

    /// <summary>The length of piece <paramref name="index"/> (the last may be shorter).</summary>
    public int PieceSize(int index) => (int)Math.Min(PieceLength, Length - PieceOffset(index));

    /// <summary>True when <paramref name="data"/> hashes to the recorded hash of piece <paramref name="index"/>.</summary>
    public bool VerifyPiece(int index, ReadOnlySpan<byte> data)
    {
        if ((uint)index >= (uint)PieceCount || data.Length != PieceSize(index))
        {
            return false;
        }
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(data, hash);
        return CryptographicOperations.FixedTimeEquals(hash, PieceHash(index));
    }

    /// <summary>The number of pieces a blob of this length has.</summary>
    public static int PieceCountFor(long length, int pieceLength) => checked((int)((length + pieceLength - 1) / pieceLength));

    /// <summary>Serializes to the JSON document served by origins and trackers.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(
        new Wire(Digest.ToString(), Length, PieceLength, Convert.ToBase64String(_pieceHashes), InfoHash),
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
        if (wire is null || wire.Digest is null || wire.PieceHashes is null)
        {
            throw new FormatException("metainfo is missing fields");
        }
        byte[] hashes;
        try
        {
            hashes = Convert.FromBase64String(wire.PieceHashes);
        }
        catch (FormatException ex)
        {
            throw new FormatException("metainfo piece hashes are not base64", ex);
        }
        MetaInfo info;
        try
        {
            info = new MetaInfo(Digest.Parse(wire.Digest), wire.Length, wire.PieceLength, hashes);
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
        hash.AppendData("shoal-metainfo-v1\n"u8);
        hash.AppendData(Encoding.ASCII.GetBytes(Digest.ToString()));
        Span<byte> numbers = stackalloc byte[12];
        BinaryPrimitives.WriteInt64BigEndian(numbers, Length);
        BinaryPrimitives.WriteInt32BigEndian(numbers[8..], PieceLength);
        hash.AppendData(numbers);
        hash.AppendData(_pieceHashes);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    internal sealed record Wire(
        [property: JsonPropertyName("digest")] string? Digest,
        [property: JsonPropertyName("length")] long Length,
        [property: JsonPropertyName("pieceLength")] int PieceLength,
        [property: JsonPropertyName("pieceHashes")] string? PieceHashes,
        [property: JsonPropertyName("infoHash")] string? InfoHash);
}

[JsonSerializable(typeof(MetaInfo.Wire))]
internal sealed partial class MetaInfoJsonContext : JsonSerializerContext;
