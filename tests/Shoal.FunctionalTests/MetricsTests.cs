using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shoal.Dev;
using Shoal.Hosting.Metrics;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>
/// <c>GET /metrics</c>: the exposition format itself, and a dev cluster whose components each report
/// their own counters (a blob pulled through one agent shows on that agent, on the origin that
/// seeded it, and not on the other agent in the same process).
/// </summary>
public sealed partial class MetricsTests : IDisposable
{
    private readonly TempDirectory _temp = new("shoal-metrics");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Write_CountersGaugesHistograms_InTheTextFormatWithTheirLabels()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var metrics = new PrometheusMetrics(factory);
        var meter = factory.Create("Shoal.Test");
        var served = meter.CreateCounter<long>("shoal.test.bytes_served", "By", "Bytes \\ served\nin responses.");
        var queued = 3;
        meter.CreateObservableGauge("shoal.test.queue_depth", () => queued, "{task}", "Tasks waiting.");
        var durations = meter.CreateHistogram("shoal.test.duration", "s", "How long.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1] });

        served.Add(10, new KeyValuePair<string, object?>("outcome", "ok"), new KeyValuePair<string, object?>("http.route", "/v2/\"x\""));
        served.Add(5, new KeyValuePair<string, object?>("http.route", "/v2/\"x\""), new KeyValuePair<string, object?>("outcome", "ok"));
        served.Add(7);
        durations.Record(0.25);
        durations.Record(0.75);
        durations.Record(4);

        var text = metrics.Write();
        Assert.Contains("# HELP shoal_test_bytes_served_total Bytes \\\\ served\\nin responses.\n# TYPE shoal_test_bytes_served_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("shoal_test_bytes_served_total 7\n", text, StringComparison.Ordinal);
        Assert.Contains("shoal_test_bytes_served_total{http_route=\"/v2/\\\"x\\\"\",outcome=\"ok\"} 15\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE shoal_test_queue_depth gauge\nshoal_test_queue_depth 3\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "# TYPE shoal_test_duration_seconds histogram\n"
            + "shoal_test_duration_seconds_bucket{le=\"0.5\"} 1\n"
            + "shoal_test_duration_seconds_bucket{le=\"1\"} 2\n"
            + "shoal_test_duration_seconds_bucket{le=\"+Inf\"} 3\n"
            + "shoal_test_duration_seconds_sum 5\n"
            + "shoal_test_duration_seconds_count 3\n", text, StringComparison.Ordinal);

        queued = 9;
        Assert.Contains("shoal_test_queue_depth 9\n", metrics.Write(), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_MetersOfAnotherFactory_AreNotReported()
    {
        using var mine = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var theirs = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new PrometheusMetrics(mine.GetRequiredService<IMeterFactory>());
        mine.GetRequiredService<IMeterFactory>().Create("Shoal.Same").CreateCounter<long>("shoal.same.hits").Add(1);
        theirs.GetRequiredService<IMeterFactory>().Create("Shoal.Same").CreateCounter<long>("shoal.same.hits").Add(40);
        using var unscoped = new Meter("Shoal.Same");
        unscoped.CreateCounter<long>("shoal.same.hits").Add(500);

        var text = metrics.Write();
        Assert.Contains("shoal_same_hits_total 1\n", text, StringComparison.Ordinal);
        Assert.Single(SampleLines(text, "shoal_same_hits_total"));
    }

    [Theory]
    [InlineData("shoal.origin.bytes_served", "By", true, "shoal_origin_bytes_served_total")]
    [InlineData("shoal.p2p.piece_bytes.received", "By", true, "shoal_p2p_piece_bytes_received_total")]
    [InlineData("http.server.request.duration", "s", false, "http_server_request_duration_seconds")]
    [InlineData("dotnet.gc.heap.total_allocated", "By", true, "dotnet_gc_heap_total_allocated_bytes_total")]
    [InlineData("kestrel.active_connections", "{connection}", false, "kestrel_active_connections")]
    [InlineData("requests.total", null, true, "requests_total")]
    [InlineData("2xx..rate", "1", false, "_2xx_rate")]
    public void NameOf_FollowsThePrometheusConventions(string instrument, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusMetrics.NameOf(instrument, unit, counter));

    [Fact]
    public async Task DevCluster_BlobPulledThroughOneAgent_CountedByThatAgentAndTheOriginOnly()
    {
        await using var cluster = await DevCluster.StartAsync(new DevClusterOptions
        {
            DataDir = _temp.Path,
            AgentCount = 2,
            UsePortZero = true,
            LogLevel = LogLevel.Warning,
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        foreach (var component in cluster.Components)
        {
            using var response = await http.GetAsync(new Uri(component.Url, "metrics"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(response.Content.Headers.ContentType!.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("# TYPE dotnet_gc_collections_total counter", text, StringComparison.Ordinal); // the runtime's meter
        }

        var blob = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(blob);
        var digest = Registry.Sha256(blob);
        using (var push = await http.PostAsync(new Uri(cluster.Proxy.Url, $"v2/metrics/test/blobs/uploads/?digest={digest}"), new ByteArrayContent(blob)))
        {
            Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        }
        Assert.Equal(blob, await Registry.GetBlobAsync(cluster.Agents[0].Url, "metrics/test", digest));

        // The response ends when the last byte is verified; the agent counts the blob once it is committed.
        var agent = string.Empty;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Value(agent = await ScrapeAsync(http, cluster.Agents[0].Url), "shoal_agent_blobs_downloaded_total") < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        var other = await ScrapeAsync(http, cluster.Agents[1].Url);
        var origin = await ScrapeAsync(http, cluster.Origin.Url);
        var proxy = await ScrapeAsync(http, cluster.Proxy.Url);
        Assert.Equal(blob, await Registry.GetBlobAsync(cluster.Agents[0].Url, "metrics/test", digest)); // now from the store
        agent = await ScrapeAsync(http, cluster.Agents[0].Url);
        Assert.Equal(1, Value(agent, "shoal_agent_downloads_started_total"));
        Assert.True(Value(agent, "shoal_agent_cache_hits_total") >= 1);
        Assert.Equal(1, Value(agent, "shoal_agent_blobs_downloaded_total"));
        Assert.Equal(blob.Length, Value(agent, "shoal_agent_bytes_downloaded_total"));
        Assert.Equal(1, Value(agent, "shoal_p2p_downloads_completed_total"));
        Assert.Equal(blob.Length, Value(agent, "shoal_p2p_piece_bytes_received_total{source=\"origin\"}") + Value(agent, "shoal_p2p_piece_bytes_received_total{source=\"agent\"}"));
        Assert.True(Value(agent, "shoal_p2p_pieces_verified_total") >= 1);
        Assert.Equal(0, Value(agent, "shoal_p2p_pieces_corrupt_total"));
        Assert.Equal(1, Value(agent, "shoal_p2p_download_duration_seconds_count"));
        Assert.Equal(0, Value(other, "shoal_agent_blobs_downloaded_total"));
        Assert.Equal(0, Value(other, "shoal_p2p_piece_bytes_received_total{source=\"origin\"}"));
        Assert.True(Value(origin, "shoal_p2p_piece_bytes_sent_total") >= Value(agent, "shoal_p2p_piece_bytes_received_total{source=\"origin\"}"));
        Assert.Equal(1, Value(origin, "shoal_origin_blobs_committed_total"));
        var tracker = await ScrapeAsync(http, cluster.Tracker.Url);
        Assert.Equal(1, Value(tracker, "shoal_tracker_metainfo_requests_total{outcome=\"fetched\"}"));
        Assert.True(Value(tracker, "shoal_tracker_announces_total{outcome=\"ok\"}") >= 1);
        Assert.True(Value(tracker, "shoal_tracker_peers_handed_out_total") >= 1); // the origin, at least
        Assert.Equal(1, Value(tracker, "shoal_tracker_metainfo_cached"));
        Assert.Equal(1, Value(tracker, "shoal_tracker_swarms"));
        Assert.Equal(1, Value(proxy, "shoal_proxy_blobs_pushed_total"));
        Assert.Equal(blob.Length, Value(proxy, "shoal_proxy_blobs_pushed_bytes_total"));
        Assert.Equal(0, Value(proxy, "shoal_proxy_uploads_refused_total"));
        Assert.Contains("http_server_request_duration_seconds_bucket{", proxy, StringComparison.Ordinal); // ASP.NET Core's, per component
    }

    private static async Task<string> ScrapeAsync(HttpClient http, Uri component)
    {
        using var response = await http.GetAsync(new Uri(component, "metrics"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the sample whose name and labels are <paramref name="series"/> (0 when absent).</summary>
    private static double Value(string text, string series)
    {
        var lines = text.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count <= 1, $"{series} appears {lines.Count} times");
        return lines.Count == 0 ? 0 : double.Parse(lines[0][(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static IEnumerable<string> SampleLines(string text, string name) =>
        text.Split('\n').Where(l => SampleLine().IsMatch(l) && l.StartsWith(name, StringComparison.Ordinal));

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{.*\\})? ")]
    private static partial Regex SampleLine();
}
