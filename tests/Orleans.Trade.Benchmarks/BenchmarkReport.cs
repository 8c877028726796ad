using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using HdrHistogram;

namespace Orleans.Trade.Benchmarks;

/// <summary>One measured row: latency percentiles in microseconds and throughput.</summary>
public sealed record LatencyRow(string Measure, int Threads, long Operations, double P50Us, double P90Us, double P99Us, double P999Us, double MaxUs, double OpsPerSecond)
{
    public static LatencyRow From(string measure, int threads, HistogramBase histogram, TimeSpan wall)
    {
        double Us(double percentile) => histogram.GetValueAtPercentile(percentile) * 1e6 / Stopwatch.Frequency;
        return new LatencyRow(measure, threads, histogram.TotalCount, Us(50), Us(90), Us(99), Us(99.9),
            histogram.GetMaxValue() * 1e6 / Stopwatch.Frequency, histogram.TotalCount / wall.TotalSeconds);
    }
}

/// <summary>A scenario's results with the machine, settings and commit they were measured on.</summary>
public sealed record BenchmarkReport(string Scenario, IReadOnlyDictionary<string, string> Settings, IReadOnlyList<LatencyRow> Rows, IReadOnlyList<string> Notes)
{
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"### {Scenario}");
        text.AppendLine();
        text.AppendLine(c, $"- machine: {MachineInfo.Machine()}");
        text.AppendLine(c, $"- runtime: {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}");
        text.AppendLine(c, $"- commit: {MachineInfo.Commit()}");
        text.AppendLine(c, $"- settings: {string.Join(", ", Settings.Select(s => $"{s.Key}={s.Value}"))}");
        text.AppendLine(c, $"- measured: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine();
        text.AppendLine("| measure | threads | operations | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | ops/s |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in Rows)
        {
            text.AppendLine(c, $"| {r.Measure} | {r.Threads} | {r.Operations} | {r.P50Us:F1} | {r.P90Us:F1} | {r.P99Us:F1} | {r.P999Us:F1} | {r.MaxUs:F0} | {r.OpsPerSecond:N0} |");
        }
        foreach (var note in Notes)
        {
            text.AppendLine();
            text.AppendLine(note);
        }
        return text.ToString();
    }
}
