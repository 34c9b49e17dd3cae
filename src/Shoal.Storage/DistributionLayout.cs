using System.Diagnostics.CodeAnalysis;
using Shoal.Core;

namespace Shoal.Storage;

/// <summary>
/// The storage layout of a Docker registry (CNCF distribution's storage drivers), as a mapping of
/// Shoal's object names onto it. The backend's root is the registry's storage root (the
/// filesystem driver's <c>rootdirectory</c>, or the key prefix of the s3 driver's
/// <c>rootdirectory</c>); everything the registry keeps lies under <c>docker/registry/v2/</c>:
/// <code>
/// blobs/sha256/&lt;hex&gt;    →  docker/registry/v2/blobs/sha256/&lt;first two hex&gt;/&lt;hex&gt;/data
/// &lt;any other name&gt;      →  docker/registry/v2/&lt;name&gt;   (e.g. repositories/&lt;name&gt;/_manifests/…)
/// </code>
/// Names under <c>blobs/</c> other than canonical blob names have no place in this layout and are
/// refused; stored objects outside these two shapes (upload sessions, other digests' files) are
/// not Shoal objects and are skipped by listings.
/// </summary>
public static class DistributionLayout
{
    /// <summary>Where a registry keeps everything, relative to its storage root.</summary>
    public const string Root = "docker/registry/v2/";

    private const string CanonicalBlobs = "blobs/";
    private const string CanonicalSha256 = "blobs/" + Digest.Sha256 + "/";
    private const string StoredSha256 = Root + "blobs/" + Digest.Sha256 + "/";
    private const string DataFile = "/data";

    /// <summary>
    /// The stored name of Shoal object <paramref name="name"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is invalid, or lies under <c>blobs/</c> without being a blob name.</exception>
    public static string ToStored(string name)
    {
        BackendNames.Validate(name);
        if (BackendNames.TryParseBlob(name, out var digest))
        {
            return StoredSha256 + digest.Hex[..2] + "/" + digest.Hex + DataFile;
        }
        if (name.StartsWith(CanonicalBlobs, StringComparison.Ordinal) || name == "blobs")
        {
            throw new ArgumentException($"'{name}' is not a blob name (blobs/sha256/<hex>), and the distribution layout keeps nothing else under blobs/", nameof(name));
        }
        return Root + name;
    }

    /// <summary>
    /// The Shoal name of stored object <paramref name="stored"/>; false for objects that are not
    /// Shoal objects (outside <see cref="Root"/>, or under its <c>blobs/</c> without being a blob's data).
    /// </summary>
    public static bool TryFromStored(string? stored, [NotNullWhen(true)] out string? name)
    {
        name = null;
        if (stored is null || !stored.StartsWith(Root, StringComparison.Ordinal) || stored.Length == Root.Length)
        {
            return false;
        }
        if (stored.StartsWith(StoredSha256, StringComparison.Ordinal))
        {
            // <two hex>/<hex>/data
            var rest = stored.AsSpan(StoredSha256.Length);
            if (!rest.EndsWith(DataFile, StringComparison.Ordinal))
            {
                return false;
            }
            rest = rest[..^DataFile.Length];
            if (rest.Length < 3 || rest[2] != '/' || !rest[3..].StartsWith(rest[..2], StringComparison.Ordinal))
            {
                return false;
            }
            var candidate = CanonicalSha256 + rest[3..].ToString();
            if (!BackendNames.TryParseBlob(candidate, out _))
            {
                return false;
            }
            name = candidate;
            return true;
        }
        var relative = stored[Root.Length..];
        if (relative.StartsWith(CanonicalBlobs, StringComparison.Ordinal) || !BackendNames.IsValid(relative, out _))
        {
            return false;
        }
        name = relative;
        return true;
    }

    /// <summary>
    /// The stored prefix to list for Shoal prefix <paramref name="prefix"/>, or null when no Shoal
    /// object can have that prefix in this layout. Every object a listing of the result finds still
    /// has to be mapped back (<see cref="TryFromStored"/>) and checked against <paramref name="prefix"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The prefix is invalid.</exception>
    public static string? ToStoredPrefix(string prefix)
    {
        if (!BackendNames.IsValidPrefix(prefix, out var error))
        {
            throw new ArgumentException(error, nameof(prefix));
        }
        if (prefix.StartsWith(CanonicalSha256, StringComparison.Ordinal))
        {
            var hex = prefix[CanonicalSha256.Length..];
            if (hex.Contains('/', StringComparison.Ordinal))
            {
                return null; // Blob names have no further segments.
            }
            return hex.Length >= 2 ? StoredSha256 + hex[..2] + "/" + hex : StoredSha256 + hex;
        }
        return Root + prefix;
    }
}
