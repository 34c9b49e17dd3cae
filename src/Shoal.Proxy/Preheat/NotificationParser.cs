using System.Text.Json;
using Shoal.Core;
using Shoal.Core.Registry;

namespace Shoal.Proxy.Preheat;

/// <summary>One event of a notification: a preheat to start, or why it is ignored.</summary>
/// <param name="Request">The preheat, when the event is a manifest push.</param>
/// <param name="Subject">What the event is about (digest or repository), for the answer.</param>
/// <param name="Ignored">Why the event starts nothing.</param>
/// <param name="UnknownRegistry">The event's registry is no configured upstream: the caller checks whether Shoal itself holds the manifest.</param>
internal sealed record NotificationEvent(PreheatRequest? Request, string Subject, string? Ignored, string? UnknownRegistry = null);

/// <summary>
/// Parses what arrives at <c>POST /registry/notifications</c>: the distribution event envelope (any
/// version, keys in any case — Harbor's "kraken" driver sends them PascalCase), Harbor webhooks
/// (<c>PUSH_ARTIFACT</c>) and their CloudEvents form (<c>harbor.artifact.pushed</c>).
/// </summary>
internal static class NotificationParser
{
    /// <summary>The events, or null with <paramref name="error"/> when the body is malformed.</summary>
    public static IReadOnlyList<NotificationEvent>? Parse(ReadOnlySpan<byte> body, UpstreamRegistry upstreams, out string? error)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 32, CommentHandling = JsonCommentHandling.Skip });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            error = "body is not valid JSON: " + ex.Message;
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "body is not a JSON object";
                return null;
            }
            try
            {
                error = null;
                if (Get(root, "events") is { } events)
                {
                    return events.ValueKind == JsonValueKind.Array
                        ? events.EnumerateArray().Select(e => ParseDistribution(e, upstreams)).ToArray()
                        : throw new FormatException("'events' is not an array");
                }
                if (Get(root, "specversion") is not null && Get(root, "type") is { ValueKind: JsonValueKind.String } cloudType)
                {
                    var type = cloudType.GetString()!;
                    return type == "harbor.artifact.pushed"
                        ? ParseHarbor(Get(root, "data") ?? throw new FormatException("CloudEvent has no 'data'"), upstreams)
                        : [new NotificationEvent(null, type, $"event type '{type}' is not an artifact push")];
                }
                if (Get(root, "type") is { ValueKind: JsonValueKind.String } harborType && Get(root, "event_data") is { } data)
                {
                    var type = harborType.GetString()!;
                    return type == "PUSH_ARTIFACT"
                        ? ParseHarbor(data, upstreams)
                        : [new NotificationEvent(null, type, $"event type '{type}' is not an artifact push")];
                }
                throw new FormatException("body is neither a registry event envelope ({\"events\":[…]}) nor a Harbor webhook");
            }
            catch (FormatException ex)
            {
                error = ex.Message;
                return null;
            }
        }
    }

    private static NotificationEvent ParseDistribution(JsonElement e, UpstreamRegistry upstreams)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("an event is not a JSON object");
        }
        var action = String(e, "action") ?? throw new FormatException("an event has no 'action'");
        var target = Get(e, "target") is { ValueKind: JsonValueKind.Object } t ? t : throw new FormatException("an event has no 'target' object");
        var mediaType = String(target, "mediaType") ?? string.Empty;
        var digestText = String(target, "digest") ?? throw new FormatException("an event's target has no 'digest'");
        if (!Digest.TryParse(digestText, out var digest, out var digestError))
        {
            throw new FormatException($"event target digest '{digestText}': {digestError}");
        }
        var repository = String(target, "repository") ?? throw new FormatException("an event's target has no 'repository'");
        if (!RepositoryName.IsValid(repository, out var nameError))
        {
            throw new FormatException($"event target repository '{repository}': {nameError}");
        }
        var url = String(target, "url");
        var subject = $"{repository}@{digest}";
        if (!action.Equals("push", StringComparison.OrdinalIgnoreCase))
        {
            return new NotificationEvent(null, subject, $"action '{action}' is not a push");
        }
        var isBlobUrl = url?.Contains("/blobs/", StringComparison.Ordinal) == true;
        if (mediaType == MediaTypes.OctetStream || isBlobUrl || mediaType.Contains(".layer.", StringComparison.Ordinal) || mediaType.Contains(".config.", StringComparison.Ordinal) || mediaType.EndsWith(".container.image.v1+json", StringComparison.Ordinal))
        {
            return new NotificationEvent(null, subject, "blob event");
        }
        if (!MediaTypes.IsManifest(mediaType))
        {
            return new NotificationEvent(null, subject, $"unsupported media type '{mediaType}'");
        }
        var request = new PreheatRequest { Repository = repository, Reference = digest.ToString(), Digest = digest.ToString(), Trigger = "notification" };
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return new NotificationEvent(request, subject, null, UnknownRegistry: "(no url)");
        }
        if (upstreams.Match(uri) is { } upstream)
        {
            request.Upstream = upstream.Base.AbsoluteUri;
            request.Url = uri.AbsoluteUri;
            return new NotificationEvent(request, subject, null);
        }
        return new NotificationEvent(request, subject, null, UnknownRegistry: uri.GetLeftPart(UriPartial.Authority));
    }

    private static NotificationEvent[] ParseHarbor(JsonElement data, UpstreamRegistry upstreams)
    {
        var repositoryElement = Get(data, "repository") is { ValueKind: JsonValueKind.Object } r ? r : throw new FormatException("Harbor event has no 'repository'");
        var repository = String(repositoryElement, "repo_full_name")
            ?? (String(repositoryElement, "namespace") is { } ns && String(repositoryElement, "name") is { } n ? $"{ns}/{n}" : null)
            ?? throw new FormatException("Harbor event repository has no 'repo_full_name'");
        if (!RepositoryName.IsValid(repository, out var nameError))
        {
            throw new FormatException($"Harbor event repository '{repository}': {nameError}");
        }
        var resources = Get(data, "resources") is { ValueKind: JsonValueKind.Array } list ? list : throw new FormatException("Harbor event has no 'resources' array");
        var result = new List<NotificationEvent>();
        foreach (var resource in resources.EnumerateArray())
        {
            var digestText = String(resource, "digest") ?? throw new FormatException("a Harbor resource has no 'digest'");
            if (!Digest.TryParse(digestText, out var digest, out var digestError))
            {
                throw new FormatException($"Harbor resource digest '{digestText}': {digestError}");
            }
            var subject = $"{repository}@{digest}";
            var request = new PreheatRequest { Repository = repository, Reference = digest.ToString(), Digest = digest.ToString(), Trigger = "harbor-webhook" };
            // resource_url is "host[:port]/project/repo:tag" (no scheme).
            var resourceUrl = String(resource, "resource_url") ?? string.Empty;
            var slash = resourceUrl.IndexOf('/', StringComparison.Ordinal);
            var authority = slash > 0 ? resourceUrl[..slash] : resourceUrl;
            if (authority.Length > 0 && upstreams.MatchAuthority(authority) is { } upstream)
            {
                request.Upstream = upstream.Base.AbsoluteUri;
                request.Url = new Uri(upstream.Base, $"v2/{repository}/manifests/{digest}").AbsoluteUri;
                result.Add(new NotificationEvent(request, subject, null));
            }
            else
            {
                result.Add(new NotificationEvent(request, subject, null, UnknownRegistry: authority.Length > 0 ? authority : "(no resource_url)"));
            }
        }
        return [.. result];
    }

    /// <summary>A property by name, whatever its case.</summary>
    internal static JsonElement? Get(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind != JsonValueKind.Null)
            {
                return property.Value;
            }
        }
        return null;
    }

    internal static string? String(JsonElement element, string name)
        => Get(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
}
