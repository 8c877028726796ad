using System.Globalization;
using System.Text.RegularExpressions;

namespace Orleans.Trade.Benchmarks.Harness;

/// <summary>
/// The silo over a measured window, from two reads of its Prometheus <c>/metrics</c>. Its storage batchers
/// (<c>trade_storage_round_trip_duration_seconds</c> and <c>trade_storage_batch_size</c>, per <c>batcher</c>): round trips,
/// items per round trip, mean duration and, from the histogram's buckets, the bounds its median and 99th percentile fall
/// under. For the hot SKU it shows where its time goes: the share of the window its ledger writes were in flight (one at a
/// time per SKU) says whether the sale waits on the database or on the CPU. Its garbage collector (<c>dotnet_gc_*</c>):
/// collections, time paused and bytes allocated, as every collection pauses all requests. Its own account of the checkouts it
/// answered 201 (ASP.NET Core's <c>http_server_request_duration_seconds</c>, from the request's start in Kestrel to the
/// response): the bounds its median and 99th percentile fall under, beside the load generator's, which also counts what
/// happened outside the silo (the generator itself, the loopback, the kernel's queues).
/// </summary>
public sealed partial class SiloMetricsWindow
{
    private readonly Uri _metrics;
    private readonly IReadOnlyDictionary<string, double> _before;
    private readonly long _started = Environment.TickCount64;

    private SiloMetricsWindow(Uri metrics, IReadOnlyDictionary<string, double> before) => (_metrics, _before) = (metrics, before);

    /// <summary>Reads the counters now; null (nothing to report) if the silo does not answer.</summary>
    public static async Task<SiloMetricsWindow?> StartAsync(Uri siloBase) =>
        await ReadAsync(new Uri(siloBase, "metrics")) is { } before ? new SiloMetricsWindow(new Uri(siloBase, "metrics"), before) : null;

    /// <summary>
    /// "silo's own timing of its 201 checkouts: 100,000, p50 ≤ 25 ms, p99 ≤ 75 ms; storage sku-ledger-write: 807 round trips (one per 124 ops) of 1.0 items, 15.5 ms each (p50 ≤ 17.5 ms, p99 ≤ 30 ms), in flight 94% of
    /// the window, 0 done again the slower way; …; GC: 14 collections (gen0 9, gen1 4, gen2 1), paused 241 ms (2.0% of the window, 17.2 ms each), 26.8 KB
    /// allocated per op", or "" (the items of the SKU ledger batcher are SKU writes, each carrying every checkout its SKU took
    /// meanwhile).
    /// </summary>
    public async Task<string> DescribeAsync(long ops, params string[] batchers)
    {
        var seconds = (Environment.TickCount64 - _started) / 1000.0;
        if (await ReadAsync(_metrics) is not { } after)
        {
            return "";
        }
        var c = CultureInfo.InvariantCulture;
        var parts = new List<string>();
        foreach (var batcher in batchers)
        {
            var trips = Delta(after, "trade_storage_round_trip_duration_seconds_count", batcher);
            if (trips <= 0)
            {
                continue;
            }
            var busy = Delta(after, "trade_storage_round_trip_duration_seconds_sum", batcher);
            var items = Delta(after, "trade_storage_batch_size_sum", batcher) / Math.Max(1, Delta(after, "trade_storage_batch_size_count", batcher));
            var spread = Quantile(after, $"{BucketSeries}|{batcher}|", trips, 0.5) is { } p50 && Quantile(after, $"{BucketSeries}|{batcher}|", trips, 0.99) is { } p99
                ? string.Create(c, $" (p50 ≤ {p50 * 1000:0.#} ms, p99 ≤ {p99 * 1000:0.#} ms)")
                : "";
            var redone = batcher == SkuLedgerWrites && after.ContainsKey($"{RedoneSeries}|")
                ? string.Create(c, $", {Delta(after, RedoneSeries, ""):N0} done again the slower way")
                : "";
            parts.Add(string.Create(c, $"{batcher}: {trips:N0} round trips (one per {ops / trips:N0} ops) of {items:N1} items, {busy / trips * 1000:F1} ms each{spread}, in flight {busy / seconds * 100:F0}% of the window{redone}"));
        }
        var storage = parts.Count == 0 ? "" : "storage " + string.Join("; ", parts);
        return string.Join("; ", new[] { DescribeCheckouts(after), storage, DescribeGc(after, ops, seconds) }.Where(p => p.Length > 0));
    }

    /// <summary>"silo's own timing of its 201 checkouts: 150,000, p50 ≤ 25 ms, p99 ≤ 75 ms", or "".</summary>
    private string DescribeCheckouts(IReadOnlyDictionary<string, double> after)
    {
        var served = Delta(after, ServedCount, "");
        if (served <= 0)
        {
            return "";
        }
        string Bound(double q) => Quantile(after, $"{ServedBuckets}|", served, q) is { } bound
            ? string.Create(CultureInfo.InvariantCulture, $"≤ {bound * 1000:0.#} ms")
            : "over the largest bucket";
        return string.Create(CultureInfo.InvariantCulture, $"silo's own timing of its 201 checkouts: {served:N0}, p50 {Bound(0.5)}, p99 {Bound(0.99)}");
    }

    private string DescribeGc(IReadOnlyDictionary<string, double> after, long ops, double seconds)
    {
        if (!after.ContainsKey($"{GcPause}|"))
        {
            return "";
        }
        var byGeneration = new[] { "gen0", "gen1", "gen2" }.Select(g => (Generation: g, Count: Delta(after, GcCollections, g))).ToArray();
        var collections = byGeneration.Sum(g => g.Count);
        var paused = Delta(after, GcPause, "");
        var allocated = Delta(after, GcAllocated, "");
        var c = CultureInfo.InvariantCulture;
        var each = collections > 0 ? string.Create(c, $", {paused / collections * 1000:F1} ms each") : "";
        var perOp = ops > 0 ? string.Create(c, $", {allocated / ops / 1024:F1} KB allocated per op") : "";
        return string.Create(c, $"GC: {collections:N0} collections ({string.Join(", ", byGeneration.Select(g => $"{g.Generation} {g.Count:N0}"))}), paused {paused * 1000:N0} ms ({paused / seconds * 100:F1}% of the window{each}){perOp}");
    }

    /// <summary>
    /// The smallest bucket bound (seconds) under which at least <paramref name="q"/> of the window's <paramref name="total"/>
    /// observations fell, from the bucket keys starting with <paramref name="prefix"/> (a batcher's round trips, or the 201
    /// checkouts); null if there are no finite buckets or the quantile lies in the +Inf bucket.
    /// </summary>
    private double? Quantile(IReadOnlyDictionary<string, double> after, string prefix, double total, double q)
    {
        var cumulative = after.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => (Bound: double.Parse(k[prefix.Length..], CultureInfo.InvariantCulture), Count: after[k] - _before.GetValueOrDefault(k)))
            .OrderBy(b => b.Bound);
        return cumulative.FirstOrDefault(b => b.Count >= q * total) is { Count: > 0 } hit ? hit.Bound : null;
    }

    private const string BucketSeries = "trade_storage_round_trip_duration_seconds_bucket";
    private const string SkuLedgerWrites = "sku-ledger-write";
    /// <summary>SKU writes whose one-round-trip batch PostgreSQL refused (a key stored before, a lost version check), redone.</summary>
    private const string RedoneSeries = "trade_storage_sku_writes_redone_total";
    private const string ServedBuckets = "checkout_201_duration_bucket";
    private const string ServedCount = "checkout_201_duration_count";
    private const string GcCollections = "dotnet_gc_collections_total";
    private const string GcPause = "dotnet_gc_pause_time_seconds_total";
    private const string GcAllocated = "dotnet_gc_heap_total_allocated_bytes_total";

    /// <summary>How much a series moved over the window; <paramref name="label"/> is its batcher, generation or bucket key.</summary>
    private double Delta(IReadOnlyDictionary<string, double> after, string series, string label)
    {
        var key = $"{series}|{label}";
        return after.GetValueOrDefault(key) - _before.GetValueOrDefault(key);
    }

    private static async Task<IReadOnlyDictionary<string, double>?> ReadAsync(Uri metrics)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var text = await http.GetStringAsync(metrics);
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (Match m in Series().Matches(text))
            {
                values[$"{m.Groups["name"].Value}|{m.Groups["batcher"].Value}"] = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
            foreach (Match m in Gc().Matches(text))
            {
                var key = $"{m.Groups["name"].Value}|{m.Groups["generation"].Value}";
                values[key] = values.GetValueOrDefault(key) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
            foreach (Match m in Served().Matches(text))
            {
                var labels = m.Groups["labels"].Value;
                if (!labels.Contains("http_request_method=\"POST\"", StringComparison.Ordinal)
                    || !labels.Contains("http_route=\"/api/v1/checkout\"", StringComparison.Ordinal)
                    || !labels.Contains("http_response_status_code=\"201\"", StringComparison.Ordinal))
                {
                    continue;
                }
                var key = m.Groups["kind"].Value == "count" ? $"{ServedCount}|"
                    : LeBound().Match(labels) is { Success: true } le ? $"{ServedBuckets}|{le.Groups["le"].Value}" : null;
                if (key is not null)
                {
                    values[key] = values.GetValueOrDefault(key) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
                }
            }
            if (Redone().Match(text) is { Success: true } redone)
            {
                values[$"{RedoneSeries}|"] = double.Parse(redone.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
            foreach (Match m in Buckets().Matches(text))
            {
                values[$"{BucketSeries}|{m.Groups["batcher"].Value}|{m.Groups["le"].Value}"] = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
            return values;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    // trade_storage_batch_size_sum{otel_scope_name="Orleans.Trade.Storage",batcher="sku-ledger-write"} 150000
    [GeneratedRegex("""^(?<name>trade_storage_(?:round_trip_duration_seconds|batch_size)_(?:sum|count))\{[^}]*batcher="(?<batcher>[^"]+)"[^}]*\} (?<value>\S+)""", RegexOptions.Multiline)]
    private static partial Regex Series();

    // trade_storage_sku_writes_redone_total{otel_scope_name="Orleans.Trade.Storage"} 0
    [GeneratedRegex("""^trade_storage_sku_writes_redone_total(?:\{[^}]*\})? (?<value>\S+)""", RegexOptions.Multiline)]
    private static partial Regex Redone();

    // trade_storage_round_trip_duration_seconds_bucket{otel_scope_name="Orleans.Trade.Storage",batcher="sku-ledger-write",le="0.02"} 1180
    [GeneratedRegex("""^trade_storage_round_trip_duration_seconds_bucket\{[^}]*batcher="(?<batcher>[^"]+)"[^}]*le="(?<le>[0-9.eE+-]+)"\} (?<value>\S+)""", RegexOptions.Multiline)]
    private static partial Regex Buckets();

    // http_server_request_duration_seconds_bucket{otel_scope_name="Microsoft.AspNetCore.Hosting",http_request_method="POST",
    //   http_response_status_code="201",http_route="/api/v1/checkout",…,le="0.05"} 1180 (one line), and its _count
    [GeneratedRegex("""^http_server_request_duration_seconds_(?<kind>bucket|count)\{(?<labels>[^}]*)\} (?<value>\S+)""", RegexOptions.Multiline)]
    private static partial Regex Served();

    [GeneratedRegex("le=\"(?<le>[0-9.eE+-]+)\"")]
    private static partial Regex LeBound();

    // dotnet_gc_collections_total{otel_scope_name="System.Runtime",gc_heap_generation="gen0"} 43
    // dotnet_gc_pause_time_seconds_total{otel_scope_name="System.Runtime"} 0.826487
    [GeneratedRegex("""^(?<name>dotnet_gc_(?:collections_total|pause_time_seconds_total|heap_total_allocated_bytes_total))\{[^}]*?(?:gc_heap_generation="(?<generation>[^"]+)"[^}]*)?\} (?<value>\S+)""", RegexOptions.Multiline)]
    private static partial Regex Gc();
}
