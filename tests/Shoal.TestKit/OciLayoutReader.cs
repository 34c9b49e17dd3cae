using System.Security.Cryptography;
using System.Text.Json;

namespace Shoal.TestKit;

/// <summary>Reads an OCI image layout written by a client (e.g. what <c>skopeo copy … oci:DIR</c> pulled).</summary>
public static class OciLayoutReader
{
    /// <summary>Every blob in the layout: digest → file path. Throws if a file's content does not match its name.</summary>
    public static IReadOnlyDictionary<string, string> VerifiedBlobs(string layoutDirectory)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var directory = Path.Combine(layoutDirectory, "blobs", "sha256");
        if (!Directory.Exists(directory))
        {
            return result;
        }
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            var digest = "sha256:" + Path.GetFileName(file);
            var actual = Sha256File(file);
            if (actual != digest)
            {
                throw new InvalidDataException($"blob {file} has content {actual}");
            }
            result[digest] = file;
        }
        return result;
    }

    /// <summary>The descriptor <c>index.json</c> lists for <paramref name="tag"/>, or the only one when <paramref name="tag"/> is null.</summary>
    public static OciDescriptor Resolve(string layoutDirectory, string? tag = null)
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layoutDirectory, "index.json")));
        var entries = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Where(e => tag is null || (e.TryGetProperty("annotations", out var a) && a.TryGetProperty(OciImageBuilder.RefNameAnnotation, out var n) && n.GetString() == tag))
            .ToList();
        if (entries.Count != 1)
        {
            throw new InvalidDataException($"{layoutDirectory}/index.json has {entries.Count} entries for tag '{tag}'");
        }
        var entry = entries[0];
        return new OciDescriptor(entry.GetProperty("mediaType").GetString()!, entry.GetProperty("digest").GetString()!, entry.GetProperty("size").GetInt64());
    }

    /// <summary>Reads blob <paramref name="digest"/> of the layout as JSON.</summary>
    public static JsonDocument ReadJson(string layoutDirectory, string digest) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layoutDirectory, "blobs", "sha256", digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..])));

    /// <summary>The <c>sha256:</c> digest of a file's content.</summary>
    public static string Sha256File(string path)
    {
        using var stream = File.OpenRead(path);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
