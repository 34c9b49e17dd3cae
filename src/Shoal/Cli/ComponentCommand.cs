using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Shoal.Agent;
using Shoal.BuildIndex;
using Shoal.Hosting;
using Shoal.Internal;
using Shoal.Origin;
using Shoal.Proxy;
using Shoal.Tracker;

namespace Shoal.Cli;

/// <summary>A subcommand that runs one component: its name, configuration section, options type and server.</summary>
internal sealed record ComponentCommand(string Name, string Section, Type OptionsType, string Summary, Func<IConfiguration, WebApplication> Build)
{
    /// <summary>Every component subcommand, in the order help lists them.</summary>
    public static IReadOnlyList<ComponentCommand> All { get; } =
    [
        new("proxy", ProxyOptions.ConfigSection, typeof(ProxyOptions),
            "registry endpoint for push and pull: blobs to origins, tags to build-index",
            config => ProxyServer.Build(ShoalConfiguration.Bind<ProxyOptions>(config, ProxyOptions.ConfigSection), HostLogging.Quiet)),
        new("origin", OriginOptions.ConfigSection, typeof(OriginOptions),
            "content-addressed blob store cluster in front of storage; seeds the swarm",
            config => OriginServer.Build(ShoalConfiguration.Bind<OriginOptions>(config, OriginOptions.ConfigSection), HostLogging.Quiet)),
        new("tracker", TrackerOptions.ConfigSection, typeof(TrackerOptions),
            "tells peers which other peers hold a blob",
            config => TrackerServer.Build(ShoalConfiguration.Bind<TrackerOptions>(config, TrackerOptions.ConfigSection), HostLogging.Quiet)),
        new("build-index", BuildIndexOptions.ConfigSection, typeof(BuildIndexOptions),
            "tag → digest, manifest revisions and blob links per repository",
            config => BuildIndexServer.Build(ShoalConfiguration.Bind<BuildIndexOptions>(config, BuildIndexOptions.ConfigSection), HostLogging.Quiet)),
        new("agent", AgentOptions.ConfigSection, typeof(AgentOptions),
            "pull-only registry endpoint on every node, the container runtime's mirror",
            config => AgentServer.Build(ShoalConfiguration.Bind<AgentOptions>(config, AgentOptions.ConfigSection), HostLogging.Quiet)),
    ];

    /// <summary>The command named <paramref name="name"/>, or null.</summary>
    public static ComponentCommand? Find(string name) => All.FirstOrDefault(c => c.Name == name);
}
