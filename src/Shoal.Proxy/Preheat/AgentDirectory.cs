using System.Net;
using System.Net.Sockets;
using Shoal.Clients;

namespace Shoal.Proxy.Preheat;

/// <summary>Resolves a host name to its addresses; a seam so tests can stand in for DNS.</summary>
internal sealed class HostResolver(Func<string, CancellationToken, Task<IPAddress[]>> resolve)
{
    /// <summary>The system resolver (<see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>).</summary>
    public HostResolver()
        : this(Dns.GetHostAddressesAsync)
    {
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) => resolve(host, cancellationToken);
}

/// <summary>One agent to ask for a preload, or why an agent source gave none.</summary>
internal sealed record AgentTarget(Uri? Url, string Source, string? Error);

/// <summary>
/// The agents scope <c>all_peers</c> reaches (<see cref="PreheatOptions.Agents"/>): static base URLs,
/// and <c>dns+http://name[:port]</c> / <c>dns+https://name[:port]</c> entries resolved again for every
/// job to one agent per address (a Kubernetes headless Service names every ready pod).
/// </summary>
internal sealed class AgentDirectory(PreheatOptions options, HostResolver resolver)
{
    private const string DnsPrefix = "dns+";

    /// <summary>The agent port a <c>dns+</c> entry without one uses.</summary>
    public const int DefaultAgentPort = 16000;

    /// <summary>Null when <paramref name="entry"/> is a valid agent entry; else why not.</summary>
    public static string? Error(string? entry)
    {
        if (entry is null || !entry.StartsWith(DnsPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return UrlCheck.Error(entry);
        }
        if (UrlCheck.Error(entry[DnsPrefix.Length..]) is { } error)
        {
            return $"'{entry}' is not dns+http://name[:port] or dns+https://name[:port] ({error})";
        }
        var uri = new Uri(entry[DnsPrefix.Length..]);
        if (uri.AbsolutePath != "/")
        {
            return $"'{entry}': a dns+ entry names a host and port only, no path";
        }
        return null;
    }

    /// <summary>Every agent now: static entries as they are, DNS entries resolved; duplicates once.</summary>
    public async Task<IReadOnlyList<AgentTarget>> ResolveAsync(CancellationToken cancellationToken)
    {
        var results = new List<AgentTarget>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in options.Agents)
        {
            if (!entry.StartsWith(DnsPrefix, StringComparison.OrdinalIgnoreCase))
            {
                var url = ServiceEndpoint.Parse(entry);
                if (seen.Add(url.AbsoluteUri))
                {
                    results.Add(new AgentTarget(url, entry, null));
                }
                continue;
            }
            var template = new Uri(entry[DnsPrefix.Length..]);
            var port = HasExplicitPort(entry) ? template.Port : DefaultAgentPort;
            IPAddress[] addresses;
            try
            {
                addresses = await resolver.ResolveAsync(template.IdnHost, cancellationToken);
            }
            catch (SocketException ex)
            {
                results.Add(new AgentTarget(null, entry, $"{template.IdnHost} did not resolve: {ex.Message}"));
                continue;
            }
            if (addresses.Length == 0)
            {
                results.Add(new AgentTarget(null, entry, $"{template.IdnHost} resolved to no address"));
                continue;
            }
            foreach (var address in addresses.Distinct().OrderBy(a => a.ToString(), StringComparer.Ordinal))
            {
                var url = new UriBuilder(template.Scheme, address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString(), port).Uri;
                if (seen.Add(url.AbsoluteUri))
                {
                    results.Add(new AgentTarget(url, entry, null));
                }
            }
        }
        return results;
    }

    /// <summary>Whether the entry names a port (<see cref="Uri.Port"/> reports the scheme's default otherwise).</summary>
    private static bool HasExplicitPort(string entry)
    {
        var rest = entry[(entry.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var authority = rest.Split('/')[0];
        return authority.LastIndexOf(':') > authority.LastIndexOf(']');
    }
}
