using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Orleans.Trade.Benchmarks.Harness;
using Orleans.Trade.Benchmarks.Load;

namespace Orleans.Trade.Benchmarks.Scenarios;

/// <summary>
/// Scenario 3: --skus SKUs (--stock-per-sku units each) chosen with Zipf popularity (exponent 1: the top SKU gets ~10% of the
/// traffic of 10,000), for --duration: 60% SKU reads, 30% one-line checkouts, 10% ERP stock adjustments (+5 units, unique event id).
/// </summary>
public static class MixedScenario
{
    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(BenchContext ctx)
    {
        var (skus, buyers) = (ctx.Skus, ctx.Buyers);
        var stockPerSku = ctx.Args.Int("stock-per-sku", 1_000);
        var duration = ctx.Duration < ctx.MaxDuration ? ctx.Duration : ctx.MaxDuration;
        var database = await ctx.Postgres.CreateDatabaseAsync("bench_mixed");
        await using var silo = await BenchSilo.StartAsync(ctx.SiloDll, database, "mixed", ctx.LogDir);
        using var api = new TradeApiClient(silo.BaseAddress, BenchSilo.AdminKey);
        var shop = new Shop(api, database);
        await shop.WarehouseAsync();
        var skuIds = Enumerable.Range(0, skus).Select(i => $"sku-{i:D6}").ToArray();
        Console.Error.WriteLine($"bench: mixed: seeding {skus:N0} SKUs");
        await shop.SkusAsync(skuIds, stockPerSku);

        var zipf = new Zipf(skus, 1.0);
        var added = new long[skus];
        var acked = new ConcurrentBag<AckedOrder>();
        using var client = LoadRun.CreateClient(silo.BaseAddress, buyers, BenchSilo.AdminKey);
        var plan = new LoadPlan
        {
            Connections = buyers,
            ArrivalRatePerSecond = ctx.Rate,
            MaxDuration = duration,
            Next = (buyer, _) =>
            {
                var sku = zipf.Next(Random.Shared);
                var dice = Random.Shared.NextDouble();
                if (dice < 0.6)
                {
                    return new LoadRequest(HttpMethod.Get, $"/api/v1/skus/{skuIds[sku]}", null, "read", Tag: sku);
                }
                if (dice < 0.9)
                {
                    return new LoadRequest(HttpMethod.Post, "/api/v1/checkout", BenchContext.CheckoutBody(BenchContext.BuyerId(buyer), [(skuIds[sku], 1)]),
                        "checkout", Guid.NewGuid().ToString("N"), sku);
                }
                return new LoadRequest(HttpMethod.Post, $"/api/v1/skus/{skuIds[sku]}/stock/{Shop.Warehouse}/adjustments",
                    JsonSerializer.SerializeToUtf8Bytes(new { eventId = Guid.NewGuid().ToString("N"), delta = 5, reason = "erp sync" }, BenchContext.Json),
                    "stock update", Tag: sku);
            },
            Judge = (_, request, status, body) =>
            {
                var sku = (int)request.Tag!;
                switch (request.Kind, status)
                {
                    case ("read", HttpStatusCode.OK):
                        return Outcome.Ok;
                    case ("checkout", HttpStatusCode.Created):
                        acked.Add(new AckedOrder(Shop.OrderIdOf(body), skuIds[sku], 1));
                        return Outcome.Ok;
                    case ("checkout", HttpStatusCode.Conflict):
                        return Outcome.Refused;
                    case ("stock update", HttpStatusCode.OK) when StockOutcome(body) is "applied" or "Applied":
                        Interlocked.Add(ref added[sku], 5);
                        return Outcome.Ok;
                    default:
                        return Outcome.Error;
                }
            },
        };
        Console.Error.WriteLine($"bench: mixed: {buyers} connections for {duration.TotalSeconds:F0} s");
        await using var memory = PeakRss.Watch("silo", silo.ProcessId);
        var cpu = CpuUse.Start(("silo", silo.ProcessId), ("load generator", Environment.ProcessId));
        var result = await LoadRun.RunAsync(plan, client);
        var cpuUse = cpu.Stop();
        var peakRss = await memory.StopAsync();
        Console.Error.WriteLine("bench: mixed: checking");
        var loaded = skuIds.Select((s, i) => (s, stockPerSku + added[i])).ToDictionary(p => p.s, p => p.Item2, StringComparer.Ordinal);
        var errors = result.Total.Errors;
        var invariants = await shop.CheckCheckoutsAsync(loaded, acked, result.Kind("checkout").Errors + result.Kind("stock update").Errors, 0);
        var total = result.Total;
        var hottest = acked.GroupBy(o => o.SkuId).Select(g => g.Count()).DefaultIfEmpty(0).Max();
        var rows = new List<ScenarioRow>
        {
            new("mixed (all requests)", total.Ok, result.Elapsed, total, errors, invariants,
                $"{Describe(skus, stockPerSku)}; {FlashSaleScenario.Mode(result)} for {duration.TotalSeconds:F0} s; {acked.Count:N0} orders, the hottest SKU took {hottest:N0}; "
                + $"answers: {result.StatusSummary}; {cpuUse.Describe(total.Ok)}; checked every SKU and every 201 order: {string.Join("; ", invariants.Checked)}{memory.Caveat}",
                PeakRssBytes: peakRss, SiloCpuMicrosPerOp: cpuUse.ProcessMicrosPerOp(total.Ok, "silo")),
        };
        foreach (var (kind, label) in new[] { ("checkout", "mixed: checkouts"), ("read", "mixed: SKU reads"), ("stock update", "mixed: ERP stock updates") })
        {
            var k = result.Kind(kind);
            rows.Add(new ScenarioRow(label, k.Ok, result.Elapsed, k, k.Errors, null, k.Refused > 0 ? $"{k.Refused:N0} refused (409 out of stock)" : ""));
        }
        return rows;
    }

    /// <summary>A stock adjustment's "outcome", read with a pooled document (this runs in the load generator).</summary>
    private static string? StockOutcome(string body)
    {
        using var answer = JsonDocument.Parse(body);
        return answer.RootElement.GetProperty("outcome").GetString();
    }

    private static string Describe(int skus, int stockPerSku) =>
        $"{skus:N0} SKUs × {stockPerSku:N0} units, Zipf (s = 1) popularity, 60% reads / 30% checkouts / 10% ERP adjustments";

    /// <summary>Zipf-distributed ranks 0..n-1 by inverse CDF over precomputed cumulative weights 1/k^s.</summary>
    private sealed class Zipf
    {
        private readonly double[] _cumulative;

        public Zipf(int n, double exponent)
        {
            _cumulative = new double[n];
            var sum = 0.0;
            for (var k = 0; k < n; k++)
            {
                sum += 1.0 / Math.Pow(k + 1, exponent);
                _cumulative[k] = sum;
            }
        }

        public int Next(Random random)
        {
            var target = random.NextDouble() * _cumulative[^1];
            var index = Array.BinarySearch(_cumulative, target);
            return Math.Min(index < 0 ? ~index : index, _cumulative.Length - 1);
        }
    }
}
