namespace Shoal.Core;

/// <summary>Thrown when bytes do not hash to the digest they were declared under.</summary>
public sealed class DigestMismatchException : Exception
{
    public DigestMismatchException(Digest expected, Digest actual)
        : base($"content digest {actual} does not match the declared digest {expected}")
    {
        Expected = expected;
        Actual = actual;
    }

    public DigestMismatchException()
    {
    }

    public DigestMismatchException(string message) : base(message)
    {
    }

    public DigestMismatchException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The digest the caller declared.</summary>
    public Digest Expected { get; }

    /// <summary>The digest of the bytes actually received.</summary>
    public Digest Actual { get; }
}
