using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Shoal.Benchmarks;

/// <summary>
/// A "GB/s" column: the bytes one operation processes (the value of the parameter named
/// <c>Bytes</c>) divided by the mean time of the operation, in 10^9 bytes per second.
/// </summary>
public sealed class ThroughputColumn : IColumn
{
    /// <summary>The parameter that holds the bytes per operation.</summary>
    public const string BytesParameter = "Bytes";

    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "GB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Bytes processed per second, in 10^9 (the Bytes parameter divided by Mean)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (mean is not > 0 || benchmarkCase.Parameters[BytesParameter] is not int bytes)
        {
            return "-";
        }
        // bytes per nanosecond = 10^9 bytes per second
        return (bytes / mean.Value).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}
