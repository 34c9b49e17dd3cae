using Shoal.Core.Registry;

namespace Shoal.Agent.Internal;

/// <summary>What a registry request to the agent asks for, kept in the request's features for logging and upstream selection.</summary>
/// <param name="Route">The parsed <c>/v2/…</c> path.</param>
/// <param name="Upstream">
/// The registry the runtime mirrors, from the <c>?ns=</c> query parameter containerd adds in mirror
/// mode (e.g. <c>docker.io</c>); null when absent.
/// </param>
internal sealed record AgentRequest(RegistryRoute Route, string? Upstream)
{
    /// <summary>Longest <c>ns</c> value kept (a registry host name; longer values are cut).</summary>
    public const int MaxUpstreamLength = 255;
}
