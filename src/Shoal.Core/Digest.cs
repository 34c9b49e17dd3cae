using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Shoal.Core;

/// <summary>
/// A content digest in the OCI form <c>algorithm:hex</c>. Only <c>sha256</c> is supported; any other
/// algorithm is rejected with a message that says so, rather than being treated as malformed.
/// </summary>
public readonly record struct Digest
{
    /// <summary>The only algorithm Shoal stores and verifies today.</summary>
    public const string Sha256 = "sha256";

    private const int Sha256HexLength = 64;

    private Digest(string hex) => Hex = hex;

    /// <summary>The algorithm, always <c>sha256</c>.</summary>
#pragma warning disable CA1822 // An instance property so callers read digest.Algorithm like any digest's.
    public string Algorithm => Sha256;
#pragma warning restore CA1822

    /// <summary>The lowercase hex encoding of the hash (64 characters).</summary>
    public string Hex { get; }

    /// <summary>True for the default value, which is not a valid digest.</summary>
    public bool IsEmpty => Hex is null;

    /// <summary>Builds a digest from a raw 32-byte SHA-256 hash.</summary>
    public static Digest FromSha256(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("A SHA-256 hash is 32 bytes.", nameof(hash));
        }
        return new Digest(Convert.ToHexStringLower(hash));
    }

    /// <summary>Hashes <paramref name="data"/> with SHA-256.</summary>
    public static Digest Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(data, hash);
        return FromSha256(hash);
    }

    /// <summary>Parses <c>sha256:&lt;64 lowercase hex&gt;</c>; throws <see cref="FormatException"/> with the reason.</summary>
    public static Digest Parse(string value)
        => TryParse(value, out var digest, out var error) ? digest : throw new FormatException(error);

    /// <summary>Parses a digest, returning false for malformed input.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest)
        => TryParse(value, out digest, out _);

    /// <summary>Parses a digest; on failure <paramref name="error"/> explains what is wrong.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest, [NotNullWhen(false)] out string? error)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "digest is empty";
            return false;
        }
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1)
        {
            error = $"digest '{Truncate(value)}' is not of the form algorithm:hex";
            return false;
        }
        var algorithm = value.AsSpan(0, colon);
        var encoded = value.AsSpan(colon + 1);
        if (!IsValidAlgorithmComponent(algorithm))
        {
            error = $"digest '{Truncate(value)}' has a malformed algorithm";
            return false;
        }
        if (!algorithm.SequenceEqual(Sha256))
        {
            error = $"digest algorithm '{algorithm}' is not supported; only sha256 is";
            return false;
        }
        if (encoded.Length != Sha256HexLength)
        {
            error = $"sha256 digest must have {Sha256HexLength} hex characters, got {encoded.Length}";
            return false;
        }
        foreach (var c in encoded)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                error = "sha256 digest must be lowercase hex";
                return false;
            }
        }
        digest = new Digest(encoded.ToString());
        error = null;
        return true;
    }

    /// <summary>True when <paramref name="value"/> looks like <c>algorithm:encoded</c> (any algorithm).</summary>
    public static bool LooksLikeDigest(string value) => value.Contains(':', StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => IsEmpty ? string.Empty : $"{Sha256}:{Hex}";

    private static bool IsValidAlgorithmComponent(ReadOnlySpan<char> algorithm)
    {
        // OCI: algorithm-component [a-z0-9]+ joined by [+._-].
        foreach (var c in algorithm)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c is not ('+' or '.' or '_' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    private static string Truncate(string value) => value.Length <= 80 ? value : value[..80] + "…";
}
