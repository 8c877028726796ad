using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Orleans.Trade.Benchmarks.Harness;

namespace Orleans.Trade.Benchmarks.Scenarios;

/// <summary>An order the product acknowledged with 201, and what it holds.</summary>
public sealed record AckedOrder(string OrderId, string SkuId, long Quantity);

/// <summary>Seeds a marketplace through the product's HTTP API and checks the stock invariants after a run.</summary>
public sealed class Shop(TradeApiClient api, string connectionString)
{
    public const string Warehouse = "wh-de-1";
    public const string Seller = "seller-bench";

    public TradeApiClient Api { get; } = api;

    public async Task WarehouseAsync() =>
        await Api.MustAsync(HttpMethod.Put, $"/api/v1/warehouses/{Warehouse}", new { name = "Berlin", country = "DE" }, HttpStatusCode.OK, HttpStatusCode.Created);

    public async Task SkusAsync(IReadOnlyList<string> skuIds, long onHand, int parallelism = 32)
    {
        await Parallel.ForEachAsync(skuIds, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (skuId, _) =>
            await Api.MustAsync(HttpMethod.Put, $"/api/v1/skus/{skuId}", new
            {
                sellerId = Seller, title = "Bench item " + skuId, category = "home", price = new { amountMinor = 1999, currency = "EUR" },
                weightGrams = 400, hsCode = "691200", originCountry = "CN",
            }, HttpStatusCode.Created, HttpStatusCode.OK));
        // Initial stock at version 1 through the ERP's bulk endpoint, 10,000 items per request (its limit).
        foreach (var chunk in skuIds.Chunk(10_000))
        {
            var answer = await Api.MustAsync(HttpMethod.Post, "/api/v1/stock/bulk",
                new { items = chunk.Select(s => new { skuId = s, warehouseId = Warehouse, onHand, version = 1 }).ToArray() }, HttpStatusCode.OK);
            if (answer!["applied"]!.GetValue<int>() != chunk.Length)
            {
                throw new InvalidOperationException($"Seeding stock: {answer.ToJsonString()[..Math.Min(500, answer.ToJsonString().Length)]}");
            }
        }
    }

    /// <summary>Stock of a SKU summed over warehouses: on hand, reserved, sold, available.</summary>
    public sealed record StockTotals(long OnHand, long Reserved, long Sold, long Available, long MaxVersion, bool WarehouseOversold);

    public async Task<StockTotals> StockAsync(string skuId)
    {
        var body = await Api.MustAsync(HttpMethod.Get, $"/api/v1/skus/{skuId}", null, HttpStatusCode.OK);
        var warehouses = body!["stock"]!["warehouses"]!.AsArray().Select(w => w!).ToArray();
        long Sum(string field) => warehouses.Sum(w => w[field]!.GetValue<long>());
        var oversold = warehouses.Any(w => w["onHand"]!.GetValue<long>() < w["reserved"]!.GetValue<long>()
                                           || w["available"]!.GetValue<long>() != w["onHand"]!.GetValue<long>() - w["reserved"]!.GetValue<long>());
        return new StockTotals(Sum("onHand"), Sum("reserved"), Sum("sold"), Sum("available"),
            warehouses.Length == 0 ? 0 : warehouses.Max(w => w["version"]!.GetValue<long>()), oversold);
    }

    /// <summary>
    /// After a checkout run, for every SKU: units in live orders (reserved + sold) + available = units loaded; never more reserved
    /// than on hand; the units the product reserved are the units of the orders it acknowledged (exactly, when no request failed
    /// without an answer); every 201 order is readable and holds its line; and in SQL, every order of the projection has its
    /// stock reservation and the projection holds as many live orders as were acknowledged. The projection is written after the
    /// order's state (an outbox): after a crash it may lag until the order is next activated. With <paramref name="projectionCatchUp"/>
    /// the checker first waits up to that long, before it reads any order (a read activates the order and so repairs its row), for
    /// the projection to catch up by itself, and checks that it did; the last count then allows the 5 s outbox retry once more.
    /// </summary>
    public async Task<Invariants> CheckCheckoutsAsync(IReadOnlyDictionary<string, long> loadedBySku, IReadOnlyCollection<AckedOrder> acked, long unansweredRequests,
        int warmupOrders, TimeSpan projectionCatchUp = default)
    {
        var invariants = new Invariants();
        var expected = acked.Count + warmupOrders;
        bool Matches(long live) => CheckerBounds.Matches(live, expected, unansweredRequests);
        if (projectionCatchUp > TimeSpan.Zero)
        {
            var (matched, liveAtStart, waitedSeconds) = await WaitForProjectionAsync(Matches, projectionCatchUp);
            var behind = Math.Max(0, expected - liveAtStart);
            invariants.Check(matched, $"the SQL order projection catches up with the 201 answers by itself within {projectionCatchUp.TotalSeconds:F0} s, "
                + $"before any order is read ({behind} orders missing when the check began{(behind > 0 && matched ? $", caught up {waitedSeconds:F1} s later" : "")})",
                $"still behind after {projectionCatchUp.TotalSeconds:F0} s; {await MissingFromProjectionAsync(acked)}");
        }
        var ackedUnits = acked.GroupBy(o => o.SkuId).ToDictionary(g => g.Key, g => g.Sum(o => o.Quantity), StringComparer.Ordinal);
        var bad = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(loadedBySku, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (sku, _) =>
        {
            var stock = await StockAsync(sku.Key);
            var units = ackedUnits.GetValueOrDefault(sku.Key);
            if (stock.OnHand + stock.Sold != sku.Value) bad.Enqueue($"units: {sku.Key} onHand {stock.OnHand} + sold {stock.Sold} != loaded {sku.Value}");
            if (stock.WarehouseOversold) bad.Enqueue($"oversold: {sku.Key} reserved above on hand, or available != onHand - reserved");
            if (stock.Reserved + stock.Sold + stock.Available != sku.Value) bad.Enqueue($"units: {sku.Key} reserved {stock.Reserved} + sold {stock.Sold} + available {stock.Available} != loaded {sku.Value}");
            var inOrders = stock.Reserved + stock.Sold;
            if (!CheckerBounds.Matches(inOrders, units, unansweredRequests))
            {
                bad.Enqueue($"orders: {sku.Key} reserved + sold {inOrders} vs units in 201 orders {units}");
            }
        });
        var grouped = bad.GroupBy(b => b[..b.IndexOf(':', StringComparison.Ordinal)]).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        void Report(string key, string rule) => invariants.Check(!grouped.ContainsKey(key), rule,
            grouped.TryGetValue(key, out var list) ? $"{list.Length} SKUs, e.g. {list[0]}" : "");
        Report("units", "units in orders + available = loaded");
        Report("oversold", "never more reserved than on hand");
        Report("orders", unansweredRequests == 0 ? "reserved + sold = units of the 201 orders"
            : $"units of the 201 orders ≤ reserved + sold ≤ that + one unit per request without an answer ({unansweredRequests:N0})");

        var unreadable = await UnreadableAsync(acked);
        invariants.Check(unreadable.Count == 0, "every 201 order readable, live, with its line", $"{unreadable.Count} of {acked.Count}, e.g. {unreadable.FirstOrDefault()}");

        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        await using (var command = new NpgsqlCommand("""
            SELECT count(*) FROM orders o
            WHERE o.status NOT IN ('Cancelled', 'cancelled')
              AND NOT EXISTS (SELECT 1 FROM sku_reservations r WHERE split_part(r.reservation_id, ':', 1) = o.order_id)
            """, db) { CommandTimeout = 600 })
        {
            // Reservation ids are "{orderId}:{line}": an equality on the prefix lets PostgreSQL hash the anti-join (a LIKE per
            // order made it quadratic, past the default 30 s time-out once a run had tens of thousands of orders).
            var orphans = (long)(await command.ExecuteScalarAsync())!;
            invariants.Check(orphans == 0, "no order without its stock (SQL: every live order has a reservation)", $"{orphans} orders without a reservation row");
        }
        var (matchedAfterReads, liveNow, _) = await WaitForProjectionAsync(Matches, projectionCatchUp > TimeSpan.Zero ? OutboxRetry : TimeSpan.Zero);
        invariants.Check(matchedAfterReads, unansweredRequests == 0 ? "live orders in SQL = 201 answers"
                : $"201 answers ≤ live orders in SQL ≤ that + one per request without an answer ({unansweredRequests:N0})",
            $"{liveNow} live orders in the projection, {expected} acknowledged (incl. {warmupOrders} warm-up); {await MissingFromProjectionAsync(acked)}");
        return invariants;
    }

    // The order grain's outbox retry period (5 s) with some slack.
    private static readonly TimeSpan OutboxRetry = TimeSpan.FromSeconds(10);

    /// <summary>Counts live orders in SQL every 500 ms until <paramref name="matches"/> or <paramref name="limit"/> passed.</summary>
    private async Task<(bool Matched, long FirstCount, double WaitedSeconds)> WaitForProjectionAsync(Func<long, bool> matches, TimeSpan limit)
    {
        var waited = Stopwatch.StartNew();
        var first = await LiveOrdersAsync();
        var live = first;
        while (!matches(live) && waited.Elapsed < limit)
        {
            await Task.Delay(500);
            live = await LiveOrdersAsync();
        }
        return (matches(live), first, waited.Elapsed.TotalSeconds);
    }

    private async Task<long> LiveOrdersAsync()
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orders WHERE status NOT IN ('Cancelled', 'cancelled')", db);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>"N acknowledged orders not live in the projection, e.g. id (status or 'no row'), ...".</summary>
    private async Task<string> MissingFromProjectionAsync(IReadOnlyCollection<AckedOrder> acked)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT order_id, status FROM orders", db))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows[reader.GetString(0)] = reader.GetString(1);
            }
        }
        var missing = acked.Where(o => !rows.TryGetValue(o.OrderId, out var status) || status is "Cancelled" or "cancelled")
            .Select(o => $"{o.OrderId} ({rows.GetValueOrDefault(o.OrderId, "no row")})").ToArray();
        return $"{missing.Length} acknowledged orders not live in the projection{(missing.Length > 0 ? ", e.g. " + string.Join(", ", missing.Take(5)) : "")}";
    }

    /// <summary>The acknowledged orders that cannot be read, are cancelled or lack their line: "id: status body" each.</summary>
    public async Task<IReadOnlyList<string>> UnreadableAsync(IEnumerable<AckedOrder> acked)
    {
        var unreadable = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(acked, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (order, _) =>
        {
            var (status, body) = await Api.GetAsync($"/api/v1/orders/{order.OrderId}");
            var holdsLine = status == HttpStatusCode.OK && body!["status"]!.GetValue<string>() != "cancelled"
                && body["lines"]!.AsArray().Any(l => l!["skuId"]!.GetValue<string>() == order.SkuId && l["quantity"]!.GetValue<long>() == order.Quantity);
            if (!holdsLine)
            {
                unreadable.Enqueue($"{order.OrderId}: {(int)status} {body?.ToJsonString()[..Math.Min(200, body.ToJsonString().Length)]}");
            }
        });
        return unreadable.ToArray();
    }

    /// <summary>The first order's id in a checkout's 201 body (a forward-only scan: this runs in the load generator).</summary>
    public static string OrderIdOf(string body) => Load.CheckoutAnswer.Read(body).OrderId;
}
