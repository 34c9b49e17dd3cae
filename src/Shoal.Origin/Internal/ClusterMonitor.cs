using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shoal.Origin.Internal;

/// <summary>
/// Keeps <see cref="ClusterMembership"/> current: resolves the DNS name (when configured) every
/// refresh interval and checks every other origin's <c>GET /readiness</c> every health-check interval.
/// </summary>
internal sealed class ClusterMonitor : BackgroundService
{
    private readonly ClusterMembership _membership;
    private readonly OriginClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ClusterMonitor(ClusterMembership membership, OriginOptions options, TimeProvider time, ILogger<ClusterMonitor> logger)
    {
        _membership = membership;
        _options = options.Cluster;
        _time = time;
        _logger = logger;
    }

    /// <summary>Resolves <paramref name="dns"/> into base URLs, one per A/AAAA record.</summary>
    internal static async Task<IReadOnlyList<string>> ResolveAsync(OriginDnsOptions dns, CancellationToken cancellationToken)
    {
        var addresses = await Dns.GetHostAddressesAsync(dns.Name, cancellationToken);
        return addresses
            .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            .Select(a => new UriBuilder(dns.Scheme, a.ToString(), dns.Port).Uri.AbsoluteUri)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var tasks = new List<Task> { HealthLoopAsync(stoppingToken) };
        if (_options.Dns is { } dns)
        {
            tasks.Add(DnsLoopAsync(dns, stoppingToken));
        }
        await Task.WhenAll(tasks);
    }

    private async Task DnsLoopAsync(OriginDnsOptions dns, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var members = await ResolveAsync(dns, stoppingToken);
                if (members.Count > 0)
                {
                    _membership.SetMembers(members);
                }
            }
            catch (Exception ex) when (ex is SocketException or ArgumentException)
            {
                Log.DnsFailed(_logger, dns.Name, ex);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            if (!await DelayAsync(dns.RefreshInterval, stoppingToken))
            {
                return;
            }
        }
    }

    private async Task HealthLoopAsync(CancellationToken stoppingToken)
    {
        var check = _options.HealthCheck;
        while (await DelayAsync(check.Interval, stoppingToken))
        {
            var others = _membership.Members.Where(m => m != _membership.Self).ToArray();
            await Task.WhenAll(others.Select(m => CheckAsync(m, check.Timeout, stoppingToken)));
        }
    }

    /// <summary>Checks one origin and records the outcome.</summary>
    internal async Task CheckAsync(string member, TimeSpan timeout, CancellationToken stoppingToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        cts.CancelAfter(timeout);
        bool healthy;
        try
        {
            using var response = await _membership.Http.GetAsync(new Uri(new Uri(member), "readiness"), cts.Token);
            healthy = response.IsSuccessStatusCode;
        }
        catch (Exception) when (!stoppingToken.IsCancellationRequested)
        {
            healthy = false;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var was = _membership.IsHealthy(member);
        _membership.Report(member, healthy);
        if (was != _membership.IsHealthy(member))
        {
            Log.HealthChanged(_logger, member, !was);
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, _time, stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
