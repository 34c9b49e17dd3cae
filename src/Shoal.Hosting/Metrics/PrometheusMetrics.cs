using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Shoal.Hosting.Metrics;

/// <summary>
/// The metrics of one component in the Prometheus text exposition format (version 0.0.4), served at
/// <c>GET /metrics</c>. It listens to the meters created through the component's own
/// <see cref="IMeterFactory"/> (its <c>Shoal.*</c> meters, the P2P engine's, ASP.NET Core's
/// request metrics) and to the process's <c>System.Runtime</c> meter, so that several components
/// in one process (<c>shoal dev</c>, tests) each report their own counters and not each other's.
/// Counters and histograms are aggregated as measurements arrive; observable instruments are read
/// at each scrape.
/// </summary>
public sealed class PrometheusMetrics : IDisposable
{
    /// <summary>The media type of the exposition format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The process-wide meter of the .NET runtime (GC, thread pool, CPU time, exceptions).</summary>
    public const string RuntimeMeterName = "System.Runtime";

    private static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly IMeterFactory _factory;
    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<Instrument, Family> _families = new();
    private readonly Lock _scrape = new();

    /// <summary>Starts listening to the meters of <paramref name="factory"/> (and the runtime's).</summary>
    public PrometheusMetrics(IMeterFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _factory = factory;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (Includes(instrument.Meter))
                {
                    var family = _families.GetOrAdd(instrument, Family.For);
                    listener.EnableMeasurementEvents(instrument, family);
                }
            },
            MeasurementsCompleted = (instrument, state) => _families.TryRemove(instrument, out Family? _),
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Every family in the text format, sorted by name.</summary>
    public string Write()
    {
        lock (_scrape)
        {
            foreach (var family in _families.Values)
            {
                family.BeginObservation();
            }
            _listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (var group in _families.Values.GroupBy(f => f.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var first = group.First();
                text.Append("# HELP ").Append(group.Key).Append(' ').Append(EscapeHelp(first.Help)).Append('\n');
                text.Append("# TYPE ").Append(group.Key).Append(' ').Append(first.Type).Append('\n');
                foreach (var family in group)
                {
                    family.WriteSamples(text);
                }
            }
            return text.ToString();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private bool Includes(Meter meter) =>
        ReferenceEquals(meter.Scope, _factory) || (meter.Scope is null && meter.Name == RuntimeMeterName);

    /// <summary>
    /// The Prometheus name of an instrument: dots and other characters Prometheus does not allow
    /// become underscores, the unit is appended as a word unless the name has it already
    /// (<c>By</c> → <c>bytes</c>, <c>s</c> → <c>seconds</c>; annotations such as <c>{request}</c> add nothing),
    /// and counters end in <c>_total</c>.
    /// </summary>
    internal static string NameOf(string instrument, string? unit, bool counter)
    {
        var name = new StringBuilder(instrument.Length + 16);
        foreach (var c in instrument)
        {
            var ok = char.IsAsciiLetterOrDigit(c) || c == '_' || c == ':';
            if (!ok && name.Length > 0 && name[^1] == '_')
            {
                continue;
            }
            name.Append(ok ? c : '_');
        }
        if (name.Length > 0 && char.IsAsciiDigit(name[0]))
        {
            name.Insert(0, '_');
        }
        var words = name.ToString().Split('_', StringSplitOptions.RemoveEmptyEntries);
        var suffix = unit switch
        {
            "By" => "bytes",
            "s" => "seconds",
            "ms" => "milliseconds",
            "us" => "microseconds",
            "ns" => "nanoseconds",
            _ => null,
        };
        if (suffix is not null && !words.Contains(suffix, StringComparer.Ordinal))
        {
            name.Append('_').Append(suffix);
        }
        if (counter && !(words.Length > 0 && words[^1] == "total"))
        {
            name.Append("_total");
        }
        return name.ToString();
    }

    /// <summary>A label name: as <see cref="NameOf"/> without unit or suffix (no colons).</summary>
    internal static string LabelNameOf(string key)
    {
        var label = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            label.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }
        if (label.Length == 0 || char.IsAsciiDigit(label[0]))
        {
            label.Insert(0, '_');
        }
        return label.ToString();
    }

    internal static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The labels of one measurement, sorted by name, as they appear between the braces.</summary>
    private static string LabelsOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return string.Empty;
        }
        var pairs = new KeyValuePair<string, string>[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            pairs[i] = new(LabelNameOf(tags[i].Key), Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? string.Empty);
        }
        Array.Sort(pairs, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder();
        foreach (var (key, value) in pairs)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }
            text.Append(key).Append("=\"").Append(EscapeLabelValue(value)).Append('"');
        }
        return text.ToString();
    }

    /// <summary>One instrument's series: a value (or histogram) per label set.</summary>
    private abstract class Family
    {
        protected Family(Instrument instrument, string type, bool counter)
        {
            Name = NameOf(instrument.Name, instrument.Unit, counter);
            Help = string.IsNullOrEmpty(instrument.Description) ? instrument.Name : instrument.Description;
            Type = type;
            Observable = instrument.IsObservable;
        }

        public string Name { get; }

        public string Help { get; }

        public string Type { get; }

        protected bool Observable { get; }

        public static Family For(Instrument instrument)
        {
            var type = instrument.GetType();
            var generic = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
            if (generic == typeof(Histogram<>))
            {
                return new HistogramFamily(instrument);
            }
            // Counters and observable counters are monotonic sums; everything else (up-down
            // counters, gauges) is a gauge: a running sum for up-down counters, the last value otherwise.
            var counter = generic == typeof(Counter<>) || generic == typeof(ObservableCounter<>);
            var sum = counter && !instrument.IsObservable || generic == typeof(UpDownCounter<>);
            return new ValueFamily(instrument, counter, sum);
        }

        /// <summary>Observable instruments report afresh at every scrape: series that are no longer reported go.</summary>
        public abstract void BeginObservation();

        public abstract void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

        public abstract void WriteSamples(StringBuilder text);
    }

    private sealed class ValueFamily(Instrument instrument, bool counter, bool sum) : Family(instrument, counter ? "counter" : "gauge", counter)
    {
        private readonly ConcurrentDictionary<string, AtomicDouble> _series = new(StringComparer.Ordinal);

        public override void BeginObservation()
        {
            if (Observable)
            {
                _series.Clear();
            }
        }

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var box = _series.GetOrAdd(LabelsOf(tags), static _ => new AtomicDouble());
            if (sum)
            {
                box.Add(value);
            }
            else
            {
                box.Set(value);
            }
        }

        public override void WriteSamples(StringBuilder text)
        {
            foreach (var (labels, box) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                text.Append(Name);
                if (labels.Length > 0)
                {
                    text.Append('{').Append(labels).Append('}');
                }
                text.Append(' ').Append(Format(box.Value)).Append('\n');
            }
        }
    }

    private sealed class HistogramFamily : Family
    {
        private readonly double[] _bounds;
        private readonly ConcurrentDictionary<string, Buckets> _series = new(StringComparer.Ordinal);

        public HistogramFamily(Instrument instrument)
            : base(instrument, "histogram", counter: false)
        {
            _bounds = BoundsOf(instrument) ?? DefaultBuckets;
        }

        public override void BeginObservation()
        {
        }

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var buckets = _series.GetOrAdd(LabelsOf(tags), _ => new Buckets(_bounds.Length));
            var index = 0;
            while (index < _bounds.Length && value > _bounds[index])
            {
                index++;
            }
            buckets.Add(index, value);
        }

        public override void WriteSamples(StringBuilder text)
        {
            foreach (var (labels, buckets) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                var prefix = labels.Length > 0 ? labels + "," : string.Empty;
                long cumulative = 0;
                for (var i = 0; i <= _bounds.Length; i++)
                {
                    cumulative += Interlocked.Read(ref buckets.Counts[i]);
                    var bound = i < _bounds.Length ? Format(_bounds[i]) : "+Inf";
                    text.Append(Name).Append("_bucket{").Append(prefix).Append("le=\"").Append(bound).Append("\"} ").Append(cumulative).Append('\n');
                }
                var braces = labels.Length > 0 ? "{" + labels + "}" : string.Empty;
                text.Append(Name).Append("_sum").Append(braces).Append(' ').Append(Format(buckets.Sum.Value)).Append('\n');
                text.Append(Name).Append("_count").Append(braces).Append(' ').Append(cumulative).Append('\n');
            }
        }

        /// <summary>The bucket boundaries the instrument advises (ASP.NET Core's request durations do), if any.</summary>
        private static double[]? BoundsOf(Instrument instrument) => instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries?.ToArray(),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            _ => null,
        };

        private sealed class Buckets(int bounds)
        {
            public readonly long[] Counts = new long[bounds + 1];
            public readonly AtomicDouble Sum = new();

            public void Add(int index, double value)
            {
                Interlocked.Increment(ref Counts[index]);
                Sum.Add(value);
            }
        }
    }

    /// <summary>A double updated without locks.</summary>
    private sealed class AtomicDouble
    {
        private double _value;

        public double Value => Volatile.Read(ref _value);

        public void Set(double value) => Volatile.Write(ref _value, value);

        public void Add(double value)
        {
            var current = Volatile.Read(ref _value);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref _value, current + value, current);
                if (seen.Equals(current))
                {
                    return;
                }
                current = seen;
            }
        }
    }
}
