using System.Collections.Concurrent;
using System.Net;
using Orleans.Trade.Benchmarks.Harness;
using Orleans.Trade.Benchmarks.Load;

namespace Orleans.Trade.Benchmarks.Scenarios;

/// <summary>
/// Scenarios 1 and 2 of issue 6 and the two yardsticks. <c>flash-sale</c>: one hot SKU with --units units, --buyers concurrent
/// buyers, one line of one unit per checkout, until sold out (the first 409) or --max-duration. <c>flash-sale-paid</c>: the same
/// with inline card payment and fraud scoring (a 4242 card tokenised per buyer; the risk policy set so nothing is held).
/// <c>peer</c> and <c>ceiling</c>: the same requests against the conventional one-transaction checkout and the do-nothing endpoint.
/// </summary>
public static class FlashSaleScenario
{
    internal const string HotSku = "flash-sku-1";
    internal const string WarmupSku = "warmup-sku-1";

    public static async Task<ScenarioRow> ProductAsync(BenchContext ctx, bool paid)
    {
        var name = paid ? "flash-sale-paid" : "flash-sale";
        var (units, buyers) = (ctx.Units, ctx.Buyers);
        var database = await ctx.Postgres.CreateDatabaseAsync("bench_" + name.Replace('-', '_'));
        if (!paid)
        {
            ctx.FlashSaleDatabase = database;
        }
        // The paid sale's card provider is the sandbox PSP in a silo process of its own (its own database), as a real PSP is
        // not inside the shop: the shop's silo calls it over HTTP and receives its signed webhooks.
        await using var silo = new BenchSilo(ctx.SiloDll, database, name, name, ctx.LogDir);
        await using var psp = paid ? new BenchSilo(ctx.SiloDll, await ctx.Postgres.CreateDatabaseAsync("bench_psp"), "psp", "psp", ctx.LogDir) : null;
        if (psp is not null)
        {
            psp.ExtraEnvironment["Payments__Sandbox__WebhookUrl"] = new Uri(silo.BaseAddress, "api/v1/payments/webhooks/sandbox").ToString();
            silo.ExtraEnvironment["Payments__Sandbox__BaseUrl"] = psp.BaseAddress.ToString();
            // A sandbox in a process of its own shares the merchant's API key and the webhook secret with the shop's silo.
            foreach (var setting in new[] { "Payments__Sandbox__ApiKey", "Payments__Sandbox__WebhookSecret" })
            {
                var value = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
                psp.ExtraEnvironment[setting] = value;
                silo.ExtraEnvironment[setting] = value;
            }
            await psp.StartAsync();
        }
        await silo.StartAsync();
        using var api = new TradeApiClient(silo.BaseAddress, BenchSilo.AdminKey);
        var shop = new Shop(api, database);
        await shop.WarehouseAsync();
        await shop.SkusAsync([HotSku], units);
        await shop.SkusAsync([WarmupSku], ctx.WarmupStock);

        string[]? cards = null;
        if (paid)
        {
            await api.MustAsync(HttpMethod.Put, "/api/v1/risk/policy", new { reviewThreshold = 101, blockThreshold = 101 }, HttpStatusCode.OK);
            cards = new string[buyers];
            await Parallel.ForEachAsync(Enumerable.Range(0, buyers), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (b, _) =>
            {
                var card = await api.MustAsync(HttpMethod.Post, "/api/v1/payment-methods/cards", new
                {
                    buyerId = BenchContext.BuyerId(b), number = "4242424242424242", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 3, holderName = "Bench Buyer",
                }, HttpStatusCode.Created);
                cards[b] = card!["token"]!.GetValue<string>();
            });
        }

        if (ctx.Coupon is { } coupon)
        {
            // A coupon takes at most 10,000 orders, and a buyer at most 100 of them: the sale's 256 buyers use it up to its limit.
            if (units > 10_000)
            {
                throw new ArgumentException("--coupon: a coupon is good for at most 10,000 orders; give --units 10000 or fewer.");
            }
            await api.MustAsync(HttpMethod.Put, $"/api/v1/sellers/{Shop.Seller}/coupons/{coupon}",
                new { currency = "EUR", percentOff = 10, maxRedemptions = 10_000, maxPerBuyer = 100 }, HttpStatusCode.Created);
        }
        var keys = !paid && ctx.BuyerKeys > 0 ? await BuyerKeysAsync(api, ctx.BuyerKeys) : null;
        using var client = LoadRun.CreateClient(silo.BaseAddress, buyers, keys is null ? BenchSilo.AdminKey : null);
        await using var memory = PeakRss.Watch("silo", silo.ProcessId);
        Console.Error.WriteLine($"bench: {name}: warm-up, {ctx.WarmupText(paid)}");
        var warmup = await LoadRun.RunAsync(CheckoutPlan(buyers, WarmupSku, cards, ctx.WarmupCount is null ? ctx.Warmup(paid) : TimeSpan.FromMinutes(5), null, ctx.WarmupCount, keys: keys), client);

        Console.Error.WriteLine($"bench: {name}: {units:N0} units, {buyers} buyers, at most {ctx.MaxDuration.TotalSeconds:F0} s");
        var acked = new ConcurrentBag<AckedOrder>();
        long captured = 0;
        var plan = CheckoutPlan(buyers, HotSku, cards, ctx.MaxDuration, ctx.Rate, null, keys: keys, couponCode: ctx.Coupon, onCreated: body =>
        {
            // A forward-only scan, not a document: this runs in the load generator, on the cores the silo uses.
            var answer = CheckoutAnswer.Read(body, readPayments: paid);
            acked.Add(new AckedOrder(answer.OrderId, HotSku, 1));
            if (answer.Captured)
            {
                Interlocked.Increment(ref captured);
            }
        });
        var siloMetrics = await SiloMetricsWindow.StartAsync(silo.BaseAddress);
        // The harness process is the load generator here (the peer and the ceiling run only in their own scenarios).
        var cpu = psp is null
            ? CpuUse.Start(("silo", silo.ProcessId), ("load generator", Environment.ProcessId))
            : CpuUse.Start(("silo", silo.ProcessId), ("PSP silo", psp.ProcessId), ("load generator", Environment.ProcessId));
        var result = await LoadRun.RunAsync(plan, client);
        var cpuUse = cpu.Stop();
        var siloNote = siloMetrics is null ? "" : await siloMetrics.DescribeAsync(result.Kind("checkout").Ok, "sku-ledger-write", "grain-state-write", "grain-state-read");
        var peakRss = await memory.StopAsync();
        var checkout = result.Kind("checkout");
        Console.Error.WriteLine($"bench: {name}: {checkout.Ok:N0} sold in {result.Elapsed.TotalSeconds:F1} s ({result.StopReason}); checking");
        var invariants = await shop.CheckCheckoutsAsync(new Dictionary<string, long> { [HotSku] = units }, acked, checkout.Errors, (int)warmup.Kind("checkout").Ok);
        if (paid)
        {
            // A paid checkout whose payment was refused still answers 201 (the order waits for another payment): it sold a unit
            // but is not the paid checkout this scenario measures.
            invariants.Check(captured == checkout.Ok, "every 201 carries a captured card payment", $"{checkout.Ok - captured:N0} of {checkout.Ok:N0} do not");
        }
        var ledgerRead = paid ? "; " + await LedgerReadAsync(api) : "";
        var note = $"{checkout.Ok:N0} of {units:N0} units sold, {Mode(result)}; stopped: {StopText(result, ctx)}; answers: {result.StatusSummary}"
            + (ctx.Coupon is { } code ? $"; every checkout names the seller's coupon {code} (10% off), so its SKU takes a redemption from the seller's coupons before placing the order (two group-commit writes per checkout)" : "")
            + (keys is null ? "" : $"; checked out with {keys.Length:N0} buyer keys in rotation (connection c's request s uses key (s × connections + c) mod {keys.Length:N0}), each for its own buyer, through the buyers' request limit")
            + (paid ? $"; {captured:N0} of the 201s carry a captured card payment; the sandbox PSP runs in a silo process of its own on this machine{ledgerRead}" : "")
            + $"; {cpuUse.Describe(checkout.Ok)}{(siloNote.Length > 0 ? "; " + siloNote : "")}; checked: {string.Join("; ", invariants.Checked)}{memory.Caveat}";
        return new ScenarioRow(name, checkout.Ok, result.Elapsed, checkout, checkout.Errors, invariants, note, ComparedToYardsticks: true, PeakRssBytes: peakRss,
            SiloCpuMicrosPerOp: cpuUse.ProcessMicrosPerOp(checkout.Ok, "silo")); // the shop's silo, not the sandbox PSP's
    }

    /// <summary>
    /// The seller's ledger as the seller's dashboard reads it after the sale: a page of escrows and the summary over all of them
    /// (an escrow per paid order). Five reads one after another, the answer's size and the median time from the harness.
    /// </summary>
    private static async Task<string> LedgerReadAsync(TradeApiClient api)
    {
        var times = new List<double>();
        System.Text.Json.Nodes.JsonNode? ledger = null;
        for (var i = 0; i < 5; i++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            ledger = await api.MustAsync(HttpMethod.Get, $"/api/v1/sellers/{Shop.Seller}/ledger", null, HttpStatusCode.OK);
            times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        times.Sort();
        var bytes = System.Text.Encoding.UTF8.GetByteCount(ledger!.ToJsonString());
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"the seller's ledger read after the sale ({ledger["escrow"]!["accounts"]!.GetValue<int>():N0} escrow accounts, a page of " +
            $"{ledger["accounts"]!.AsArray().Count(a => a!["accountId"]!.GetValue<string>().StartsWith("escrow:", StringComparison.Ordinal))}): " +
            $"{times[2]:F1} ms (median of 5), {bytes / 1024.0:F1} KB");
    }

    public static async Task<ScenarioRow> PeerAsync(BenchContext ctx)
    {
        var (units, buyers) = (ctx.Units, ctx.Buyers);
        var database = ctx.FlashSaleDatabase ?? await ctx.Postgres.CreateDatabaseAsync("bench_flash_sale");
        string Pooled(int pool) => new Npgsql.NpgsqlConnectionStringBuilder(database) { MaxPoolSize = pool }.ConnectionString;

        // Warm the harness's peer code once, then find the peer's fastest pool unless one is given: every checkout takes the
        // hot row's lock and holds it through its commit, so connections beyond a few only queue on that lock and spin
        // (PostgreSQL spent 3.2 ms of CPU per checkout with 64 against 0.4 ms with 2).
        await using (var warm = await PeerShop.StartAsync(Pooled(ctx.PeerPool ?? PeerSweepPools[1])))
        {
            using var warmClient = LoadRun.CreateClient(warm.BaseAddress, buyers, null);
            await warm.LoadStockAsync(WarmupSku, ctx.WarmupStock);
            await LoadRun.RunAsync(CheckoutPlan(buyers, WarmupSku, null, ctx.WarmupCount is null ? ctx.WarmupTime : TimeSpan.FromMinutes(5), null, ctx.WarmupCount, path: "/peer/checkout"), warmClient);
        }
        var pool = ctx.PeerPool ?? 0;
        var sweep = new List<(int Pool, double PerSecond)>();
        if (ctx.PeerPool is null)
        {
            foreach (var candidate in PeerSweepPools)
            {
                await using var trial = await PeerShop.StartAsync(Pooled(candidate));
                using var trialClient = LoadRun.CreateClient(trial.BaseAddress, buyers, null);
                await trial.LoadStockAsync(HotSku, units);
                var run = await LoadRun.RunAsync(CheckoutPlan(buyers, HotSku, null, ctx.PeerSweepTime, ctx.Rate, null, path: "/peer/checkout"), trialClient);
                var perSecond = run.Kind("checkout").Ok / run.Elapsed.TotalSeconds;
                Console.Error.WriteLine($"bench: peer: pool {candidate}: {perSecond:N0} checkouts/s");
                sweep.Add((candidate, perSecond));
            }
            pool = sweep.MaxBy(t => t.PerSecond).Pool;
        }

        await using var peer = await PeerShop.StartAsync(Pooled(pool));
        using var client = LoadRun.CreateClient(peer.BaseAddress, buyers, null);
        await peer.LoadStockAsync(HotSku, units);
        Console.Error.WriteLine($"bench: peer: {units:N0} units, {buyers} buyers, pool {pool}");
        var acked = 0L;
        var cpu = CpuUse.Start(("harness (load generator and peer)", Environment.ProcessId));
        var result = await LoadRun.RunAsync(CheckoutPlan(buyers, HotSku, null, ctx.MaxDuration, ctx.Rate, null, _ => Interlocked.Increment(ref acked), "/peer/checkout"), client);
        var cpuUse = cpu.Stop();
        var checkout = result.Kind("checkout");
        var (ordered, orders, remaining) = await peer.CountAsync(HotSku);
        var invariants = new Invariants();
        invariants.Check(ordered + remaining == units, "units in orders + remaining = loaded", $"{ordered} + {remaining} != {units}");
        invariants.Check(remaining >= 0, "never below zero", $"remaining {remaining}");
        invariants.Check(checkout.Errors == 0 ? orders == acked : orders >= acked, "order rows = 201 answers", $"{orders} rows, {acked} answers");
        var poolText = sweep.Count == 0
            ? $"pool {pool} (--peer-pool)"
            : $"pool {pool}, its fastest of {sweep.Count} tried for {ctx.PeerSweepTime.TotalSeconds:F0} s each (" +
              string.Join(", ", sweep.Select(t => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{t.Pool}: {t.PerSecond:N0}/s"))) + ")";
        var note = $"one transaction per checkout (guarded UPDATE, INSERT, COMMIT) on the same PostgreSQL, {poolText}; {checkout.Ok:N0} of {units:N0} units sold, "
            + $"{Mode(result)}; stopped: {StopText(result, ctx)}; answers: {result.StatusSummary}; {cpuUse.Describe(checkout.Ok)}";
        return new ScenarioRow("peer (relational checkout)", checkout.Ok, result.Elapsed, checkout, checkout.Errors, invariants, note, Yardstick: "peer");
    }

    /// <summary>The peer's pool sizes tried when --peer-pool is not given; the second also serves its warm-up.</summary>
    private static readonly int[] PeerSweepPools = [1, 2, 4, 8, 16, 64];

    public static async Task<ScenarioRow> CeilingAsync(BenchContext ctx)
    {
        var buyers = ctx.Buyers;
        await using var ceiling = await PeerShop.StartAsync("Host=127.0.0.1;Database=unused");
        using var client = LoadRun.CreateClient(ceiling.BaseAddress, buyers, null);
        await LoadRun.RunAsync(CheckoutPlan(buyers, HotSku, null, TimeSpan.FromMinutes(1), null, Math.Max(ctx.WarmupCount ?? 0, 5_000), path: "/ceiling/checkout"), client);
        Console.Error.WriteLine($"bench: ceiling: {buyers} connections for {ctx.CeilingDuration.TotalSeconds:F0} s");
        var cpu = CpuUse.Start(("harness (load generator and ceiling)", Environment.ProcessId));
        var result = await LoadRun.RunAsync(CheckoutPlan(buyers, HotSku, null, ctx.CeilingDuration, ctx.Rate, null, path: "/ceiling/checkout"), client);
        var cpuUse = cpu.Stop();
        var checkout = result.Kind("checkout");
        var note = $"parses the same checkout JSON, answers 201 without work; {Mode(result)} for {ctx.CeilingDuration.TotalSeconds:F0} s; answers: {result.StatusSummary}; "
            + cpuUse.Describe(checkout.Ok);
        return new ScenarioRow("ceiling (parse and answer)", checkout.Ok, result.Elapsed, checkout, checkout.Errors, null, note, Yardstick: "ceiling");
    }

    /// <summary>One checkout of one unit per request; buyer = connection; a 409 means sold out and ends the run.</summary>
    /// <summary>
    /// Issues <paramref name="count"/> buyer keys, key i for buyer <see cref="BenchContext.BuyerId"/>(i), through the API as a
    /// shop would (16 at a time).
    /// </summary>
    private static async Task<string[]> BuyerKeysAsync(TradeApiClient api, int count)
    {
        var keys = new string[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (b, _) =>
        {
            var created = await api.MustAsync(HttpMethod.Post, "/api/v1/api-keys", new { role = "buyer", subject = BenchContext.BuyerId(b) }, HttpStatusCode.Created);
            keys[b] = created!["apiKey"]!.GetValue<string>();
        });
        return keys;
    }

    internal static LoadPlan CheckoutPlan(int buyers, string skuId, string[]? cards, TimeSpan maxDuration, double? rate, long? maxRequests,
        Action<string>? onCreated = null, string path = "/api/v1/checkout", Action<LoadRequest, string>? onError = null, TimeSpan? errorPause = null,
        string[]? keys = null, string? couponCode = null)
    {
        // A buyer's every checkout has the same body (only the Idempotency-Key differs), so it is encoded once per buyer here
        // instead of per request on the cores the silo uses. With buyer keys, each key's buyer has a body of its own.
        var bodies = Enumerable.Range(0, keys?.Length ?? buyers).Select(b => BenchContext.CheckoutBody(BenchContext.BuyerId(b), [(skuId, 1)], cards?[b], couponCode)).ToArray();
        return new()
        {
            Connections = buyers,
            ArrivalRatePerSecond = rate,
            MaxDuration = maxDuration,
            MaxRequests = maxRequests,
            OnError = onError,
            ErrorPause = errorPause,
            Next = keys is null
                ? (buyer, _) => new LoadRequest(HttpMethod.Post, path, bodies[buyer], "checkout", Guid.NewGuid().ToString("N"))
                : (connection, sequence) =>
                {
                    var key = (int)((sequence * buyers + connection) % keys.Length);
                    return new LoadRequest(HttpMethod.Post, path, bodies[key], "checkout", Guid.NewGuid().ToString("N"), ApiKey: keys[key]);
                },
            Judge = (run, _, status, body) =>
            {
                switch (status)
                {
                    case HttpStatusCode.Created:
                        onCreated?.Invoke(body);
                        return Outcome.Ok;
                    case HttpStatusCode.Conflict:
                        run.Stop("sold out");
                        return Outcome.Refused;
                    default:
                        return Outcome.Error;
                }
            },
        };
    }

    internal static string Mode(LoadResult result) => result.ArrivalRatePerSecond is { } rate
        ? $"open model at {rate:N0} requests/s{Lag(result)}{Waited(result)}"
        : $"{result.Connections} connections";

    /// <summary>" (the generator started requests p50 0.1 ms, p99 35.2 ms behind schedule)", the part of the latency that is its own.</summary>
    private static string Lag(LoadResult result) => result.SendLag is { TotalCount: > 0 } lag
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $" (the generator started requests p50 {lag.GetValueAtPercentile(50) / 1000.0:F1} ms, p99 {lag.GetValueAtPercentile(99) / 1000.0:F1} ms, p99.9 {lag.GetValueAtPercentile(99.9) / 1000.0:F1} ms behind schedule)")
        : "";

    /// <summary>"; 1,234 requests found the most allowed in flight and waited for one to end (...)", when any did.</summary>
    private static string Waited(LoadResult result) => result.WaitedForSlot == 0 ? ""
        : $"; {result.WaitedForSlot:N0} requests were due while the most allowed were in flight and started when one ended (their latency counts from their schedule)";

    internal static string StopText(LoadResult result, BenchContext ctx) => result.StopReason == "duration"
        ? $"**at --max-duration ({ctx.MaxDuration.TotalSeconds:F0} s), not sold out: throughput is over that window**"
        : result.StopReason;
}
