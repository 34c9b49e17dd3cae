using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Shoal.Dev;

/// <summary>How <see cref="DevCluster"/> lays out a whole Shoal cluster in one process.</summary>
public sealed class DevClusterOptions
{
    /// <summary>
    /// Root of every component's data (one subdirectory each). Null: a fresh directory under the
    /// system temp directory, which is kept after the cluster stops. Default null.
    /// </summary>
    public string? DataDir { get; set; }

    /// <summary>How many agents to start. Default 3.</summary>
    public int AgentCount { get; set; } = 3;

    /// <summary>The IP address every component listens on. Default <c>127.0.0.1</c>.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>
    /// Listen on free ports chosen by the operating system instead of the fixed dev ports (proxy
    /// 15000, origin 15002, tracker 15003, build-index 15004, agent <i>i</i> 16000 + 10·<i>i</i>).
    /// For tests. Default false.
    /// </summary>
    public bool UsePortZero { get; set; }

    /// <summary>Minimum level of the components' console logs. Default <see cref="LogLevel.Information"/>.</summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    /// <summary>How long to wait for every component to answer <c>/readiness</c>. Default 30 seconds.</summary>
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Extra configuration of each component's host, called with the component's name (e.g. <c>agent-0</c>).</summary>
    public Action<string, WebApplicationBuilder>? ConfigureComponent { get; set; }

    /// <summary>
    /// The storage behind the cluster: the origin's backend and, when set, where build-index keeps
    /// every repository's tags (one <c>.*</c> rule of <c>buildIndex:backends</c>), e.g. a Docker
    /// registry's storage with <c>layout: distribution</c>. Default: a filesystem directory
    /// <c>storage/</c> under the data directory for blobs, tags in build-index's data directory.
    /// </summary>
    public Storage.BackendOptions? Backend { get; set; }
}
