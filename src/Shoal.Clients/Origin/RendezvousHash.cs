using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Shoal.Clients.Origin;

/// <summary>
/// Highest-random-weight (rendezvous) hashing: every node scores every key and the highest scores
/// own it. Adding or removing a node moves only the keys it owned. The score hashes the node's
/// name with the <em>whole</em> digest (Kraken keys on 4 hex characters, which clusters blobs).
/// </summary>
public static class RendezvousHash
{
    /// <summary>Orders <paramref name="nodes"/> by descending score for <paramref name="key"/>; ties break by name.</summary>
    public static IReadOnlyList<string> Order(IEnumerable<string> nodes, string key)
        => nodes.Select(n => (Node: n, Score: Score(n, key)))
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Node, StringComparer.Ordinal)
            .Select(x => x.Node)
            .ToArray();

    /// <summary>The score of <paramref name="node"/> for <paramref name="key"/>.</summary>
    public static ulong Score(string node, string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(node + "\n" + key), hash);
        return BinaryPrimitives.ReadUInt64BigEndian(hash);
    }
}
