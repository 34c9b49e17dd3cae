using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Shoal.P2P;

/// <summary>
/// A peer's 32-byte identity. Its text form is 64 lowercase hex characters (the form the tracker
/// hands out). 32 bytes, not BitTorrent's 20, so that under mutual TLS a peer id can be the
/// SHA-256 of the peer certificate's public key (<see cref="FromPublicKey"/>) and be checked
/// against the certificate instead of trusted on the peer's word.
/// </summary>
public readonly struct PeerId : IEquatable<PeerId>
{
    /// <summary>The length of a peer id on the wire, in bytes.</summary>
    public const int Length = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private PeerId(ulong a, ulong b, ulong c, ulong d)
    {
        _a = a;
        _b = b;
        _c = c;
        _d = d;
    }

    /// <summary>Reads a peer id from its 32 wire bytes.</summary>
    public static PeerId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"A peer id is {Length} bytes.", nameof(bytes));
        }
        return new PeerId(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }

    /// <summary>A random peer id (for a process without a stable identity).</summary>
    public static PeerId NewRandom()
    {
        Span<byte> bytes = stackalloc byte[Length];
        RandomNumberGenerator.Fill(bytes);
        return FromBytes(bytes);
    }

    /// <summary>The peer id bound to a TLS identity: SHA-256 of the certificate's SubjectPublicKeyInfo (DER).</summary>
    public static PeerId FromPublicKey(ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        Span<byte> hash = stackalloc byte[Length];
        SHA256.HashData(subjectPublicKeyInfo, hash);
        return FromBytes(hash);
    }

    /// <summary>Parses 64 hex characters (either case).</summary>
    public static PeerId Parse(string value)
        => TryParse(value, out var id) ? id : throw new FormatException($"a peer id is {Length * 2} hex characters");

    /// <summary>Parses 64 hex characters (either case), returning false for anything else.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out PeerId id)
    {
        id = default;
        if (value is null || value.Length != Length * 2)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[Length];
        if (Convert.FromHexString(value, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Length)
        {
            return false;
        }
        id = FromBytes(bytes);
        return true;
    }

    /// <summary>Writes the 32 wire bytes into <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"A peer id needs {Length} bytes.", nameof(destination));
        }
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>64 lowercase hex characters.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Length];
        WriteTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public bool Equals(PeerId other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is PeerId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c, _d);

    public static bool operator ==(PeerId left, PeerId right) => left.Equals(right);

    public static bool operator !=(PeerId left, PeerId right) => !left.Equals(right);
}
