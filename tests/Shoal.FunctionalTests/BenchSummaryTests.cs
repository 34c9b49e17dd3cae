using System.Globalization;
using Shoal.TestKit;

namespace Shoal.FunctionalTests;

/// <summary>
/// <c>bench/swarm/ab.sh summary</c>: the A/B rows of a results CSV summed up per benchmark point,
/// with the paired difference B - A and its Student t interval (worked out by hand below).
/// </summary>
public sealed class BenchSummaryTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    [Fact]
    public async Task Summary_PairsAtTwoPoints_MeansWinsAndPairedDifferenceWithItsInterval()
    {
        var script = FindScript();
        var header = ResultsHeader();
        var columns = header.Split(',');
        string Row(int hosts, string rate, double ratio, double cpu, string notes)
        {
            var values = columns.Select(_ => "0").ToArray();
            values[Array.IndexOf(columns, "n")] = hosts.ToString(CultureInfo.InvariantCulture);
            values[Array.IndexOf(columns, "rate")] = rate;
            values[Array.IndexOf(columns, "size_bytes")] = "67108864";
            values[Array.IndexOf(columns, "ratio")] = ratio.ToString(CultureInfo.InvariantCulture);
            values[Array.IndexOf(columns, "proc_cpu_s")] = cpu.ToString(CultureInfo.InvariantCulture);
            values[^1] = notes;
            return string.Join(',', values);
        }
        var csv = _directory.Combine("results.csv");
        await File.WriteAllLinesAsync(csv,
        [
            header,
            // 8 hosts, three pairs, B slower by 0.10 / 0.15 / 0.05 and 1 CPU-second cheaper in each.
            Row(8, "100mbit", 1.10, 10, "A/B (x) trial: A abc1234 (pair 1)"),
            Row(8, "100mbit", 1.20, 9, "A/B (x) trial: B abc1234+change (pair 1)"),
            Row(8, "100mbit", 1.25, 9, "A/B (x) trial: B abc1234+change (pair 2)"),
            Row(8, "100mbit", 1.10, 10, "A/B (x) trial: A abc1234 (pair 2)"),
            Row(8, "100mbit", 1.12, 10, "A/B (x) trial: A abc1234 (pair 3)"),
            Row(8, "100mbit", 1.17, 9, "A/B (x) trial: B abc1234+change (pair 3)"),
            // Another comparison's rows are not counted.
            Row(8, "100mbit", 9.99, 99, "A/B (y) other: A abc1234 (pair 1)"),
            Row(8, "100mbit", 1.11, 10, "grid"),
            // 16 hosts, two pairs, B faster by 0.20 / 0.10 and 2 CPU-seconds cheaper.
            Row(16, "100mbit", 1.50, 20, "A/B (x) trial: A abc1234 (pair 1)"),
            Row(16, "100mbit", 1.30, 18, "A/B (x) trial: B abc1234+change (pair 1)"),
            Row(16, "100mbit", 1.35, 18, "A/B (x) trial: B abc1234+change (pair 2)"),
            Row(16, "100mbit", 1.45, 20, "A/B (x) trial: A abc1234 (pair 2)"),
        ]);

        var result = (await ExternalProcess.RunAsync("bash", [script, "summary", csv, "(x) trial"], TimeSpan.FromSeconds(30))).EnsureSuccess();
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        // Mean difference 0.100, standard error 0.05 / sqrt(3), t(2) = 4.303: half-width 0.124.
        Assert.Equal(
        [
            "== 8 hosts x 100mbit, 67108864 bytes",
            "pair 1  A  ratio 1.1  procs CPU-s 10",
            "pair 1  B  ratio 1.2  procs CPU-s 9",
            "pair 2  B  ratio 1.25  procs CPU-s 9",
            "pair 2  A  ratio 1.1  procs CPU-s 10",
            "pair 3  A  ratio 1.12  procs CPU-s 10",
            "pair 3  B  ratio 1.17  procs CPU-s 9",
            "A abc1234      mean ratio 1.107  mean procs CPU-s 10.00  runs 3  pairs won 3",
            "B abc1234+change mean ratio 1.207  mean procs CPU-s 9.00  runs 3  pairs won 0",
            "B - A over 3 pairs: ratio +0.100, 95 % CI [-0.024, +0.224] (contains 0); procs CPU-s -1.000, 95 % CI [-1.000, -1.000]",
        ], lines.Take(10));
        // Mean difference -0.150, standard error 0.05, t(1) = 12.706: half-width 0.635.
        Assert.Equal(
        [
            "== 16 hosts x 100mbit, 67108864 bytes",
            "pair 1  A  ratio 1.5  procs CPU-s 20",
            "pair 1  B  ratio 1.3  procs CPU-s 18",
            "pair 2  B  ratio 1.35  procs CPU-s 18",
            "pair 2  A  ratio 1.45  procs CPU-s 20",
            "A abc1234      mean ratio 1.475  mean procs CPU-s 20.00  runs 2  pairs won 0",
            "B abc1234+change mean ratio 1.325  mean procs CPU-s 18.00  runs 2  pairs won 2",
            "B - A over 2 pairs: ratio -0.150, 95 % CI [-0.785, +0.485] (contains 0); procs CPU-s -2.000, 95 % CI [-2.000, -2.000]",
        ], lines.Skip(10));
    }

    [Fact]
    public async Task Summary_NoRowsOfThatComparison_SaysSoAndFails()
    {
        var csv = _directory.Combine("results.csv");
        await File.WriteAllLinesAsync(csv, [ResultsHeader()]);

        var result = await ExternalProcess.RunAsync("bash", [FindScript(), "summary", csv, "(x) trial"], TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no rows noted \"A/B (x) trial: ...\"", result.StandardError, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>The header of the benchmark's own results CSV, so the rows here have the columns it writes.</summary>
    private static string ResultsHeader() => File.ReadLines(Path.Combine(Path.GetDirectoryName(FindScript())!, "results.csv")).First();

    private static string FindScript()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "bench", "swarm", "ab.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException("bench/swarm/ab.sh not found above " + AppContext.BaseDirectory);
    }
}
