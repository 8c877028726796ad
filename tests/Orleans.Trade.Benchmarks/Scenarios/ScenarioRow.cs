using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Orleans.Trade.Benchmarks.Load;

namespace Orleans.Trade.Benchmarks.Scenarios;

/// <summary>What the checker found after a run: every rule checked, and the ones that did not hold.</summary>
public sealed class Invariants
{
    private readonly List<string> _violations = [];
    private readonly List<string> _checked = [];

    public IReadOnlyList<string> Violations => _violations;
    public IReadOnlyList<string> Checked => _checked;
    public bool Hold => _violations.Count == 0;

    public void Check(bool holds, string rule, string detail)
    {
        _checked.Add(rule);
        if (!holds)
        {
            _violations.Add($"{rule}: {detail}");
        }
    }
}

/// <summary>
/// One row of the results table. <see cref="Ops"/> are requests that did their work (201 checkouts, 200 reads, applied stock
/// updates); throughput is ops per second of <see cref="Elapsed"/>. <see cref="Yardstick"/> marks the peer and the ceiling;
/// <see cref="ComparedToYardsticks"/> rows get ratios to them. <see cref="PeakRssBytes"/>: the highest resident memory of a silo
/// process during the load (null for rows without a silo of their own). <see cref="SiloCpuMicrosPerOp"/>: the CPU time the
/// row's silo processes used during the load, per op (see <see cref="Harness.CpuUse"/>).
/// </summary>
public sealed record ScenarioRow(string Scenario, long Ops, TimeSpan Elapsed, KindResult Latency, long Errors, Invariants? Invariants, string Note,
    string? Yardstick = null, bool ComparedToYardsticks = false, long? PeakRssBytes = null, double? SiloCpuMicrosPerOp = null)
{
    public double Throughput => Elapsed.TotalSeconds > 0 ? Ops / Elapsed.TotalSeconds : 0;
}

/// <summary>The markdown results of a run: machine, settings, commit, the table and the notes under it.</summary>
public static class LoadReport
{
    public static string ToMarkdown(string title, IReadOnlyDictionary<string, string> settings, string postgres, IReadOnlyList<ScenarioRow> rows, IReadOnlyList<string> notes)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        var peer = rows.FirstOrDefault(r => r.Yardstick == "peer");
        var ceiling = rows.FirstOrDefault(r => r.Yardstick == "ceiling");
        text.AppendLine(c, $"### {title}");
        text.AppendLine();
        text.AppendLine(c, $"- machine: {MachineInfo.Machine()}");
        text.AppendLine(c, $"- runtime: {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}");
        text.AppendLine(c, $"- PostgreSQL: {postgres}; one silo process per scenario (cluster-kill: three), the load generator, the peer and the ceiling on the same machine");
        text.AppendLine(c, $"- commit: {MachineInfo.Commit()}");
        text.AppendLine(c, $"- settings: {string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}"))}");
        text.AppendLine(c, $"- measured: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine();
        text.AppendLine("| scenario | ops | duration s | ops/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | peak RSS MiB | silo CPU µs/op | × peer | × ceiling | invariants |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in rows)
        {
            var toPeer = r.ComparedToYardsticks && peer is { Throughput: > 0 } ? (r.Throughput / peer.Throughput).ToString("F3", c) : "—";
            var toCeiling = r.ComparedToYardsticks && ceiling is { Throughput: > 0 } ? (r.Throughput / ceiling.Throughput).ToString("F4", c) : "—";
            var invariants = r.Invariants is null ? "—" : r.Invariants.Hold ? "OK" : $"**violated** ({r.Invariants.Violations.Count})";
            var rss = r.PeakRssBytes is { } bytes ? Harness.PeakRss.MiB(bytes) : "—";
            var cpu = r.SiloCpuMicrosPerOp is { } micros ? micros.ToString("N0", c) : "—";
            text.AppendLine(c, $"| {r.Scenario} | {r.Ops:N0} | {r.Elapsed.TotalSeconds:F1} | {r.Throughput:N1} | {r.Latency.PercentileMs(50):F1} | {r.Latency.PercentileMs(90):F1} | {r.Latency.PercentileMs(99):F1} | {r.Latency.PercentileMs(99.9):F1} | {r.Errors:N0} | {rss} | {cpu} | {toPeer} | {toCeiling} | {invariants} |");
        }
        text.AppendLine();
        foreach (var r in rows.Where(r => r.Note.Length > 0))
        {
            text.AppendLine(c, $"- **{r.Scenario}**: {r.Note}");
        }
        foreach (var r in rows.Where(r => r.Invariants is { Hold: false }))
        {
            foreach (var v in r.Invariants!.Violations)
            {
                text.AppendLine(c, $"- **{r.Scenario} violated**: {v}");
            }
        }
        foreach (var note in notes)
        {
            text.AppendLine(c, $"- {note}");
        }
        return text.ToString();
    }
}
