using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Trade.Benchmarks.Harness;
using Orleans.Trade.Benchmarks.Load;

namespace Orleans.Trade.Benchmarks.Scenarios;

/// <summary>
/// Scenario 4: --updates absolute stock updates (ERP sync) through <c>POST /api/v1/stock/bulk</c>, --batch items per request,
/// --bulk-connections requests in flight, spread round-robin over --skus SKUs with rising versions (update i: SKU i mod skus,
/// version 2 + i / skus, onHand 1000 + version), after a warm-up on 2,000 SKUs of its own (--warmup-seconds, or --warmup requests).
/// Checked: every SKU ends at the on-hand and version of the newest update sent to it when every request was answered (else
/// between its newest answered applied or stale and its newest sent), and the stored on-hand is the one its version set.
/// </summary>
public static class BulkSyncScenario
{
    public static async Task<ScenarioRow> RunAsync(BenchContext ctx)
    {
        var (skus, updates) = (ctx.Skus, ctx.Updates);
        var batch = Math.Min(ctx.Args.Int("batch", 1_000), 10_000);
        var connections = ctx.Args.Int("bulk-connections", 4);
        var database = await ctx.Postgres.CreateDatabaseAsync("bench_bulk_sync");
        await using var silo = await BenchSilo.StartAsync(ctx.SiloDll, database, "bulk-sync", ctx.LogDir);
        using var api = new TradeApiClient(silo.BaseAddress, BenchSilo.AdminKey);
        var shop = new Shop(api, database);
        await shop.WarehouseAsync();
        var skuIds = Enumerable.Range(0, skus).Select(i => $"sku-{i:D6}").ToArray();
        Console.Error.WriteLine($"bench: bulk-sync: seeding {skus:N0} SKUs");
        await shop.SkusAsync(skuIds, 1_000);

        // Warm-up, as for the flash sales: bulk requests against SKUs of their own for --warmup-seconds (or --warmup requests), so
        // the measured run sees code the JIT has finished optimising, as a silo that has been serving does.
        var warmupText = ctx.WarmupCount is { } warmupRequests ? $"{warmupRequests:N0} requests" : $"{ctx.WarmupTime.TotalSeconds:F0} s";
        var warmSkus = Enumerable.Range(0, Math.Min(skus, 2_000)).Select(i => $"warm-sku-{i:D6}").ToArray();
        await shop.SkusAsync(warmSkus, 1_000);
        Console.Error.WriteLine($"bench: bulk-sync: warm-up, {warmupText} of bulk requests on {warmSkus.Length:N0} SKUs of its own");
        using (var warmClient = LoadRun.CreateClient(silo.BaseAddress, connections, BenchSilo.AdminKey))
        {
            await LoadRun.RunAsync(new LoadPlan
            {
                Connections = connections,
                MaxDuration = ctx.WarmupCount is null ? ctx.WarmupTime : TimeSpan.FromMinutes(5),
                MaxRequests = ctx.WarmupCount,
                Next = (_, sequence) =>
                {
                    var items = Enumerable.Range(0, batch).Select(j =>
                    {
                        var i = sequence * batch + j;
                        return new { skuId = warmSkus[i % warmSkus.Length], warehouseId = Shop.Warehouse, onHand = 1_000, version = 2 + i / warmSkus.Length };
                    }).ToArray();
                    return new LoadRequest(HttpMethod.Post, "/api/v1/stock/bulk", JsonSerializer.SerializeToUtf8Bytes(new { items }, BenchContext.Json), "bulk");
                },
                Judge = (_, _, status, _) => status == HttpStatusCode.OK ? Outcome.Ok : Outcome.Error,
            }, warmClient);
        }

        var newestApplied = new long[skus];
        var newestStale = new long[skus];
        var newestSent = new long[skus];
        long applied = 0, stale = 0, invalid = 0, failed = 0;
        var requests = (updates + batch - 1) / batch;
        using var client = LoadRun.CreateClient(silo.BaseAddress, connections, BenchSilo.AdminKey);
        var plan = new LoadPlan
        {
            Connections = connections,
            MaxDuration = ctx.MaxDuration,
            MaxRequests = requests,
            Next = (_, sequence) =>
            {
                var first = sequence * batch;
                var items = Enumerable.Range(0, (int)Math.Min(batch, updates - first)).Select(j =>
                {
                    var i = first + j;
                    var version = 2 + i / skus;
                    Raise(ref newestSent[i % skus], version);
                    return new { skuId = skuIds[i % skus], warehouseId = Shop.Warehouse, onHand = 1_000 + version, version };
                }).ToArray();
                return new LoadRequest(HttpMethod.Post, "/api/v1/stock/bulk", JsonSerializer.SerializeToUtf8Bytes(new { items }, BenchContext.Json), "bulk", Tag: first);
            },
            Judge = (_, request, status, body) =>
            {
                if (status != HttpStatusCode.OK)
                {
                    return Outcome.Error;
                }
                // A pooled document, not a JsonNode tree: this runs in the load generator, on the cores the silo uses.
                using var document = JsonDocument.Parse(body);
                var answer = document.RootElement;
                Interlocked.Add(ref applied, answer.GetProperty("applied").GetInt32());
                Interlocked.Add(ref stale, answer.GetProperty("stale").GetInt32());
                Interlocked.Add(ref invalid, answer.GetProperty("invalid").GetInt32());
                if (answer.TryGetProperty("failed", out var notStored))
                {
                    Interlocked.Add(ref failed, notStored.GetInt32());
                }
                foreach (var item in answer.GetProperty("results").EnumerateArray())
                {
                    var newest = item.GetProperty("status").GetString() switch
                    {
                        "applied" or "Applied" => newestApplied,
                        "stale" or "Stale" => newestStale,
                        _ => null,
                    };
                    if (newest is not null)
                    {
                        var i = (long)request.Tag! + item.GetProperty("index").GetInt32();
                        Raise(ref newest[(int)(i % skus)], 2 + i / skus);
                    }
                }
                return Outcome.Ok;
            },
        };
        Console.Error.WriteLine($"bench: bulk-sync: {updates:N0} updates in {requests:N0} requests of {batch:N0}, {connections} in flight");
        await using var memory = PeakRss.Watch("silo", silo.ProcessId);
        var cpu = CpuUse.Start(("silo", silo.ProcessId), ("load generator", Environment.ProcessId));
        var result = await LoadRun.RunAsync(plan, client);
        var cpuUse = cpu.Stop();
        var peakRss = await memory.StopAsync();
        var bulk = result.Kind("bulk");

        Console.Error.WriteLine("bench: bulk-sync: checking");
        var invariants = new Invariants();
        // Every request sent and answered 200: then no item's fate is unknown, and the newest version of each SKU was stored.
        var everyAnswered = bulk.Errors == 0 && bulk.Ok == requests;
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, skus), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            var stock = await shop.StockAsync(skuIds[i]);
            if (CheckerBounds.BulkSyncWrong(stock.MaxVersion, stock.OnHand, newestApplied[i], newestStale[i], Math.Max(1, newestSent[i]), everyAnswered,
                    version => version <= 1 ? 1_000 : 1_000 + version) is { } why)
            {
                wrong.Enqueue($"{skuIds[i]}: {why}");
            }
        });
        invariants.Check(wrong.IsEmpty, everyAnswered
                ? "every SKU holds the newest update sent to it (every request was answered)"
                : "every SKU holds at least its newest update answered applied or stale, at most the newest sent",
            $"{wrong.Count} SKUs, e.g. {wrong.FirstOrDefault()}");
        invariants.Check(applied + stale + invalid + failed == bulk.Ok * (long)batch || result.StopReason != "request count" || updates % batch != 0,
            "a result per item", $"{applied} + {stale} + {invalid} + {failed} results for {bulk.Ok} requests of {batch}");
        invariants.Check(invalid == 0, "no item invalid", $"{invalid} invalid");
        invariants.Check(failed == 0, "no item failed to be stored", $"{failed} failed");
        var note = $"{skus:N0} SKUs (after a warm-up of {warmupText} on {warmSkus.Length:N0} others), {applied:N0} of {updates:N0} updates applied, {stale:N0} stale, {invalid:N0} invalid; {requests:N0} requests of {batch:N0} items, "
            + $"{connections} in flight; ops = items answered applied or stale (a stale item is an older version correctly refused), latency = per bulk request; stopped: {(result.StopReason == "duration" ? $"**at --max-duration ({ctx.MaxDuration.TotalSeconds:F0} s)**" : result.StopReason)}; "
            + $"answers: {result.StatusSummary}; {cpuUse.Describe(applied + stale)} (per item){memory.Caveat}";
        return new ScenarioRow("bulk-sync (items)", applied + stale, result.Elapsed, bulk, bulk.Errors, invariants, note, PeakRssBytes: peakRss,
            SiloCpuMicrosPerOp: cpuUse.ProcessMicrosPerOp(applied + stale, "silo"));
    }

    /// <summary>Raises <paramref name="newest"/> to <paramref name="version"/> if it is lower, from any thread.</summary>
    private static void Raise(ref long newest, long version)
    {
        long seen;
        while ((seen = Interlocked.Read(ref newest)) < version && Interlocked.CompareExchange(ref newest, version, seen) != seen)
        {
        }
    }
}
