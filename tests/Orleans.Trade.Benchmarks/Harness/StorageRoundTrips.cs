using System.Globalization;
using System.Text.RegularExpressions;

namespace Orleans.Trade.Benchmarks.Harness;

/// <summary>
/// The silo's storage batchers over a measured window, from two reads of its Prometheus <c>/metrics</c>
/// (<c>trade_storage_round_trip_duration_seconds</c> and <c>trade_storage_batch_size</c>, per <c>batcher</c>): round trips,
/// items per round trip and mean duration. For the hot SKU it shows where its time goes: the share of the window its ledger
/// writes were in flight (one at a time per SKU) says whether the sale waits on the database or on the CPU.
/// </summary>
public sealed partial class StorageRoundTrips
{
    private readonly Uri _metrics;
    private readonly IReadOnlyDictionary<string, double> _before;
    private readonly long _started = Environment.TickCount64;

    private StorageRoundTrips(Uri metrics, IReadOnlyDictionary<string, double> before) => (_metrics, _before) = (metrics, before);

    /// <summary>Reads the counters now; null (nothing to report) if the silo does not answer.</summary>
    public static async Task<StorageRoundTrips?> StartAsync(Uri siloBase) =>
        await ReadAsync(new Uri(siloBase, "metrics")) is { } before ? new StorageRoundTrips(new Uri(siloBase, "metrics"), before) : null;

    /// <summary>
    /// "sku-ledger-write: 807 round trips (one per 124 ops) of 1.0 items, 15.5 ms each, in flight 94% of the window; …", or "" (the
    /// items of the SKU ledger batcher are SKU writes, each carrying every checkout its SKU took meanwhile).
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
            parts.Add(string.Create(c, $"{batcher}: {trips:N0} round trips (one per {ops / trips:N0} ops) of {items:N1} items, {busy / trips * 1000:F1} ms each, in flight {busy / seconds * 100:F0}% of the window"));
        }
        return parts.Count == 0 ? "" : "storage " + string.Join("; ", parts);
    }

    private double Delta(IReadOnlyDictionary<string, double> after, string series, string batcher)
    {
        var key = $"{series}|{batcher}";
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
}
