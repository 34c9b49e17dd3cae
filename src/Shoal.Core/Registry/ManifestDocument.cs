using System.Text.Json;

namespace Shoal.Core.Registry;

/// <summary>
/// A parsed image manifest or index: its real media type (from its content, whatever a client or an
/// event claims) and the descriptors it references.
/// </summary>
public sealed class ManifestDocument
{
    private ManifestDocument(string mediaType, Descriptor? config, IReadOnlyList<Descriptor> layers, IReadOnlyList<Descriptor> manifests, Descriptor? subject)
    {
        MediaType = mediaType;
        Config = config;
        Layers = layers;
        Manifests = manifests;
        Subject = subject;
    }

    /// <summary>Largest manifest accepted: 4 MiB, as distribution and the OCI spec recommend.</summary>
    public const int MaxSize = 4 * 1024 * 1024;

    /// <summary>The manifest's media type.</summary>
    public string MediaType { get; }

    /// <summary>The config blob (image manifests).</summary>
    public Descriptor? Config { get; }

    /// <summary>The layers (image manifests).</summary>
    public IReadOnlyList<Descriptor> Layers { get; }

    /// <summary>The child manifests (indexes).</summary>
    public IReadOnlyList<Descriptor> Manifests { get; }

    /// <summary>The subject (OCI 1.1 referrers), when declared.</summary>
    public Descriptor? Subject { get; }

    /// <summary>True for an index or manifest list.</summary>
    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    /// <summary>Every blob the manifest references directly (config and layers).</summary>
    public IEnumerable<Descriptor> Blobs => Config is null ? Layers : Layers.Prepend(Config);

    /// <summary>
    /// Parses <paramref name="json"/>. <paramref name="declaredMediaType"/> (the request's Content-Type) is used only
    /// when the document does not carry its own <c>mediaType</c>; a contradiction is an error.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> json, string? declaredMediaType, out ManifestDocument? manifest, out string? error)
    {
        manifest = null;
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            error = "manifest is not valid JSON: " + ex.Message;
            return false;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "manifest is not a JSON object";
                return false;
            }
            var declared = NormalizeMediaType(declaredMediaType);
            var own = root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
            if (root.TryGetProperty("schemaVersion", out var sv) && sv.ValueKind == JsonValueKind.Number && sv.TryGetInt32(out var version) && version == 1)
            {
                error = "Docker schema 1 manifests are not supported";
                return false;
            }
            var mediaType = own ?? (MediaTypes.IsManifest(declared) ? declared : null) ?? Infer(root);
            if (mediaType is null || !MediaTypes.IsManifest(mediaType))
            {
                error = $"unsupported manifest media type '{mediaType ?? declared ?? "(none)"}'";
                return false;
            }
            if (own is not null && declared is not null && MediaTypes.IsManifest(declared) && own != declared)
            {
                error = $"manifest declares media type '{own}' but was sent as '{declared}'";
                return false;
            }
            try
            {
                var subject = root.TryGetProperty("subject", out var s) && s.ValueKind == JsonValueKind.Object ? ReadDescriptor(s) : null;
                if (MediaTypes.IsIndex(mediaType))
                {
                    if (!root.TryGetProperty("manifests", out var list) || list.ValueKind != JsonValueKind.Array)
                    {
                        error = "index has no 'manifests' array";
                        return false;
                    }
                    manifest = new ManifestDocument(mediaType, null, [], list.EnumerateArray().Select(ReadDescriptor).ToArray(), subject);
                }
                else
                {
                    if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
                    {
                        error = "manifest has no 'config' descriptor";
                        return false;
                    }
                    var layers = root.TryGetProperty("layers", out var l) && l.ValueKind == JsonValueKind.Array
                        ? l.EnumerateArray().Select(ReadDescriptor).ToArray()
                        : [];
                    manifest = new ManifestDocument(mediaType, ReadDescriptor(config), layers, [], subject);
                }
            }
            catch (FormatException ex)
            {
                error = ex.Message;
                return false;
            }
            error = null;
            return true;
        }
    }

    private static string? Infer(JsonElement root)
    {
        if (root.TryGetProperty("manifests", out _))
        {
            return MediaTypes.OciIndex;
        }
        return root.TryGetProperty("config", out _) ? MediaTypes.OciManifest : null;
    }

    private static string? NormalizeMediaType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
    }

    private static Descriptor ReadDescriptor(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("descriptor is not an object");
        }
        var mediaType = element.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() ?? "" : "";
        if (!element.TryGetProperty("digest", out var d) || d.ValueKind != JsonValueKind.String)
        {
            throw new FormatException("descriptor has no digest");
        }
        if (!Digest.TryParse(d.GetString(), out var digest, out var error))
        {
            throw new FormatException("descriptor digest: " + error);
        }
        long size = 0;
        if (element.TryGetProperty("size", out var sz) && (sz.ValueKind != JsonValueKind.Number || !sz.TryGetInt64(out size) || size < 0))
        {
            throw new FormatException("descriptor size is not a non-negative integer");
        }
        Platform? platform = null;
        if (element.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            var os = p.TryGetProperty("os", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;
            var arch = p.TryGetProperty("architecture", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            var variant = p.TryGetProperty("variant", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (os is not null && arch is not null)
            {
                platform = new Platform(os, arch, variant);
            }
        }
        return new Descriptor(mediaType, digest, size, platform);
    }
}
