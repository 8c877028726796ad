using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Orleans.Trade.Benchmarks.Harness;
using Orleans.Trade.Benchmarks.Load;

namespace Orleans.Trade.Benchmarks.Scenarios;

/// <summary>
/// Durability and scale-out under load (issue 6). <c>flash-sale-kill</c>: the flash sale on one silo; at --kill-after seconds or
/// once --kill-after-orders orders were acknowledged (defaults: 40% of --max-duration and of --units, whichever comes first) the
/// silo is SIGKILLed and started again on the same ports and database while the load goes on. <c>cluster-kill</c>: the same sale
/// on three silos of one cluster, the connections spread over their HTTP endpoints; at the same trigger one silo (--kill-silo:
/// <c>hot</c>, the one hosting the hot SKU's grain, or 0, 1, 2) is SIGKILLed and not started again. Requests that got no answer
/// or an error are sent again after the load with their own Idempotency-Key (except those whose connection was refused: they never
/// reached a silo), so the checker can count exactly.
/// </summary>
public static class SiloKillScenario
{
    private const int ClusterSize = 3;
    private const double SteadyFraction = 0.5;
    private const int BaselineSeconds = 10;
    // 201s come in bursts of a second or two (one hot grain): the rate after the kill is judged over 3 s windows.
    private const int SteadyWindowSeconds = 3;
    private const int ResendRounds = 3;
    // A silo opens two PostgreSQL pools on its connection string (its own NpgsqlDataSource and Orleans' ADO.NET providers); the
    // harness keeps this many connections of the server for itself.
    private const int PoolsPerSilo = 2;
    private const int ConnectionsKeptForHarness = 40;
    private const int DefaultPoolSize = 64;
    // An order's list row commits with its state, so none should be missing after a kill; the checker still allows this long for
    // the table to catch up and reports any order that was missing when it began (which would be a regression).
    private static readonly TimeSpan ProjectionCatchUp = TimeSpan.FromSeconds(75);
    private static readonly TimeSpan ErrorPause = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan DeathWatchAfterLoad = TimeSpan.FromSeconds(30);

    public static Task<ScenarioRow> OneSiloAsync(BenchContext ctx) => RunAsync(ctx, "flash-sale-kill", siloCount: 1);

    public static Task<ScenarioRow> ClusterAsync(BenchContext ctx) => RunAsync(ctx, "cluster-kill", siloCount: ClusterSize);

    /// <summary>What happened at the kill, as <see cref="Stopwatch"/> timestamps (0: did not happen).</summary>
    private sealed class KillRecord
    {
        public long KilledAt;
        public long ExitedAt;
        public long StartedAgainAt;
        public long ReadyAgainAt;
        public long First201AfterRestart;
        public long DeclaredDeadAt;
        public long AckedBeforeKill;
        public DateTimeOffset KilledAtUtc;
        public int Victim = -1;
        public string HowChosen = "";
    }

    private static async Task<ScenarioRow> RunAsync(BenchContext ctx, string name, int siloCount)
    {
        var (units, buyers) = (ctx.Units, ctx.Buyers);
        var killAfter = TimeSpan.FromSeconds(ctx.Args.Int("kill-after", Math.Max(1, (int)(ctx.MaxDuration.TotalSeconds * 0.4))));
        var killAfterOrders = ctx.Args.Int("kill-after-orders", Math.Max(1, units * 2 / 5));
        var victimChoice = siloCount > 1 ? ctx.Args.Text("kill-silo", "hot")! : "0";
        if (victimChoice != "hot" && !(int.TryParse(victimChoice, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v < siloCount))
        {
            throw new ArgumentException($"--kill-silo must be hot or a silo number from 0 to {siloCount - 1}, not '{victimChoice}'.");
        }
        var database = await ctx.Postgres.CreateDatabaseAsync("bench_" + name.Replace('-', '_'));
        var poolSize = Math.Min(DefaultPoolSize, (ctx.Postgres.MaxConnections - ConnectionsKeptForHarness) / (PoolsPerSilo * siloCount));
        var siloDatabase = new Npgsql.NpgsqlConnectionStringBuilder(database) { MaxPoolSize = poolSize }.ConnectionString;
        var silos = Enumerable.Range(0, siloCount)
            .Select(i => new BenchSilo(ctx.SiloDll, siloDatabase, name, siloCount == 1 ? name : $"{name}-{i}", ctx.LogDir)).ToArray();
        foreach (var silo in silos)
        {
            // Failure detection, when the run asks for other than Orleans' defaults.
            if (ctx.Args.Text("probe-timeout", null) is { } probeTimeout)
            {
                silo.ExtraEnvironment["Orleans__ClusterMembership__ProbeTimeout"] = TimeSpan.FromSeconds(double.Parse(probeTimeout, System.Globalization.CultureInfo.InvariantCulture)).ToString("c");
            }
            if (ctx.Args.Text("missed-probes", null) is { } missed)
            {
                silo.ExtraEnvironment["Orleans__ClusterMembership__NumMissedProbesLimit"] = missed;
            }
        }
        if (siloCount > 1)
        {
            // The harness asks the dashboard which silo hosts the hot SKU (off by default; about 5% of a silo's CPU).
            foreach (var silo in silos)
            {
                silo.ExtraEnvironment["Dashboard__Enabled"] = "true";
            }
        }
        var clients = new List<HttpClient>();
        (int Silo, string HowChosen) victim;
        try
        {
            // The first silo applies the schema; the others then join its cluster together.
            await silos[0].StartAsync();
            await Task.WhenAll(silos.Skip(1).Select(s => s.StartAsync()));
            clients.AddRange(silos.Select(s => LoadRun.CreateClient(s.BaseAddress, buyers, BenchSilo.AdminKey)));
            using (var seeding = new TradeApiClient(silos[0].BaseAddress, BenchSilo.AdminKey))
            {
                var seeder = new Shop(seeding, database);
                await seeder.WarehouseAsync();
                await seeder.SkusAsync([FlashSaleScenario.HotSku], units);
                // Before the warm-up SKU exists, the only SkuGrain activation in the cluster is the hot SKU's.
                var hot = siloCount == 1 ? (Silo: 0, HowChosen: "the only silo") : await HotSkuSiloAsync(silos);
                victim = victimChoice == "hot" || siloCount == 1 ? hot
                    : (int.Parse(victimChoice, CultureInfo.InvariantCulture), $"--kill-silo; the hot SKU's grain on silo {hot.Silo} ({hot.HowChosen})");
                await seeder.SkusAsync([FlashSaleScenario.WarmupSku], ctx.KillWarmup);
            }

            await using var memory = PeakRss.Watch(Label(silos, 0), silos[0].ProcessId);
            for (var i = 1; i < siloCount; i++)
            {
                memory.Add(Label(silos, i), silos[i].ProcessId);
            }
            Console.Error.WriteLine($"bench: {name}: warm-up, {ctx.KillWarmup} checkouts over {siloCount} silo(s)");
            var warmup = await LoadRun.RunAsync(FlashSaleScenario.CheckoutPlan(buyers, FlashSaleScenario.WarmupSku, null, TimeSpan.FromMinutes(5), null, ctx.KillWarmup), clients);

            Console.Error.WriteLine($"bench: {name}: {units:N0} units, {buyers} buyers over {siloCount} silo(s), at most {ctx.MaxDuration.TotalSeconds:F0} s; "
                + $"SIGKILL after {killAfter.TotalSeconds:F0} s or {killAfterOrders:N0} orders");
            var kill = new KillRecord();
            var before = new ConcurrentBag<AckedOrder>();
            var after = new ConcurrentBag<AckedOrder>();
            var failed = new ConcurrentQueue<LoadRequest>();
            long refused = 0;
            var plan = FlashSaleScenario.CheckoutPlan(buyers, FlashSaleScenario.HotSku, null, ctx.MaxDuration, ctx.Rate, null, body =>
            {
                var now = Stopwatch.GetTimestamp();
                var order = new AckedOrder(Shop.OrderIdOf(body), FlashSaleScenario.HotSku, 1);
                var killedAt = Volatile.Read(ref kill.KilledAt);
                if (killedAt == 0 || now < killedAt)
                {
                    before.Add(order);
                    Interlocked.Increment(ref kill.AckedBeforeKill);
                }
                else
                {
                    after.Add(order);
                }
                var startedAgain = Volatile.Read(ref kill.StartedAgainAt);
                if (startedAgain != 0 && now > startedAgain)
                {
                    Interlocked.CompareExchange(ref kill.First201AfterRestart, now, 0);
                }
            }, onError: (request, status) =>
            {
                if (status == "connection refused")
                {
                    Interlocked.Increment(ref refused);
                }
                else
                {
                    failed.Enqueue(request);
                }
            }, errorPause: ErrorPause);

            using var loadOver = new CancellationTokenSource();
            using var giveUpDeathWatch = new CancellationTokenSource();
            var runStarted = Stopwatch.GetTimestamp();
            var load = LoadRun.RunAsync(plan, clients);
            var killing = KillAsync(name, database, silos, victim, siloCount == 1, kill, memory, runStarted, killAfter, killAfterOrders,
                loadOver.Token, giveUpDeathWatch.Token);
            LoadResult result;
            try
            {
                result = await load;
            }
            finally
            {
                await loadOver.CancelAsync();
            }
            giveUpDeathWatch.CancelAfter(DeathWatchAfterLoad);
            var deathWatch = await killing;
            var peakRss = await memory.StopAsync();
            var checkout = result.Kind("checkout");
            Console.Error.WriteLine($"bench: {name}: {checkout.Ok:N0} sold in {result.Elapsed.TotalSeconds:F1} s ({result.StopReason}), {checkout.Errors:N0} errors; "
                + $"re-sending {failed.Count:N0} failed requests that reached a silo, then checking");

            if (kill.KilledAt != 0)
            {
                Console.Error.WriteLine($"bench: {name}: per second from 3 s before the kill, 201s/errors: {PerSecond(result.Timeline, result.Timeline.Offset(kill.KilledAt), result.Elapsed)}");
            }
            var live = kill.Victim >= 0 && siloCount > 1 ? Enumerable.Range(0, siloCount).First(i => i != kill.Victim) : 0;
            var resent = await ResendAsync(failed.ToArray(), clients[live], kill.KilledAt == 0 ? DateTimeOffset.MaxValue : kill.KilledAtUtc);
            if (deathWatch is not null)
            {
                await deathWatch;
            }

            using var checking = new TradeApiClient(silos[live].BaseAddress, BenchSilo.AdminKey);
            var shop = new Shop(checking, database);
            var acked = before.Concat(after).Concat(resent.Acked).ToArray();
            var checkBegan = Stopwatch.GetTimestamp();
            var invariants = await shop.CheckCheckoutsAsync(new Dictionary<string, long> { [FlashSaleScenario.HotSku] = units }, acked, resent.Unsettled,
                (int)warmup.Kind("checkout").Ok, ProjectionCatchUp);
            if (kill.KilledAt != 0)
            {
                var lost = await shop.UnreadableAsync(before);
                invariants.Check(lost.Count == 0, "every 201 answered before the kill readable, live and whole afterwards",
                    $"{lost.Count} of {before.Count} lost: {string.Join("; ", lost.Take(5))}");
            }

            var note = $"each silo's PostgreSQL pools capped at {poolSize} connections ({PoolsPerSilo} pools per silo, server max_connections {ctx.Postgres.MaxConnections}); "
                + Describe(kill, result, siloCount, before.Count, after.Count, failed.Count, refused, resent, ctx)
                + (kill.KilledAt != 0 ? $"; the checker began {Stopwatch.GetElapsedTime(kill.KilledAt, checkBegan).TotalSeconds:F0} s after the kill" : "")
                + $"; peak RSS {memory.Describe()}; answers: {result.StatusSummary}; checked: {string.Join("; ", invariants.Checked)}";
            var label = kill.KilledAt == 0 ? $"{name} (**no kill**: the load ended first)" : name;
            return new ScenarioRow(label, checkout.Ok, result.Elapsed, checkout, checkout.Errors, invariants, note, PeakRssBytes: peakRss);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    /// <summary>"-3: 80/0, -2: 78/0, ..." for each whole second from 3 s before the kill to the run's end.</summary>
    private static string PerSecond(OutcomeTimeline timeline, TimeSpan killAt, TimeSpan runEnd)
    {
        var second = TimeSpan.FromSeconds(1);
        return string.Join(", ", Enumerable.Range(-3, Math.Max(0, (int)((runEnd - killAt).TotalSeconds) + 3))
            .Select(i => (i, from: killAt + i * second))
            .Where(w => w.from >= TimeSpan.Zero)
            .Select(w => $"{w.i}: {timeline.Count(Outcome.Ok, w.from, w.from + second)}/{timeline.Count(Outcome.Error, w.from, w.from + second)}"));
    }

    private static string Label(BenchSilo[] silos, int index) => silos.Length == 1 ? "silo" : $"silo {index}";

    /// <summary>
    /// Waits for the trigger, SIGKILLs the victim, starts it again when <paramref name="restart"/>, and returns the watch on the
    /// membership table (null if the load ended before the trigger).
    /// </summary>
    private static async Task<Task?> KillAsync(string clusterId, string database, BenchSilo[] silos, (int Silo, string HowChosen) victimChoice, bool restart,
        KillRecord kill, PeakRss memory, long runStarted, TimeSpan killAfter, int killAfterOrders, CancellationToken loadOver, CancellationToken giveUpDeathWatch)
    {
        while (Stopwatch.GetElapsedTime(runStarted) < killAfter && Interlocked.Read(ref kill.AckedBeforeKill) < killAfterOrders)
        {
            if (loadOver.IsCancellationRequested)
            {
                return null;
            }
            await Task.Delay(20, CancellationToken.None);
        }
        if (loadOver.IsCancellationRequested)
        {
            return null;
        }
        var (victim, howChosen) = victimChoice;
        kill.Victim = victim;
        kill.HowChosen = howChosen;
        var silo = silos[victim];
        var generation = await MembershipTable.ActiveGenerationAsync(database, clusterId, silo.SiloPort);
        kill.KilledAtUtc = DateTimeOffset.UtcNow;
        Volatile.Write(ref kill.KilledAt, Stopwatch.GetTimestamp());
        await silo.KillAsync();
        Volatile.Write(ref kill.ExitedAt, Stopwatch.GetTimestamp());
        Console.Error.WriteLine($"bench: {clusterId}: SIGKILLed {Label(silos, victim)} (pid {silo.ProcessId}, {howChosen}) at "
            + $"{Stopwatch.GetElapsedTime(runStarted, kill.KilledAt).TotalSeconds:F1} s, after {Interlocked.Read(ref kill.AckedBeforeKill):N0} orders");
        var deathWatch = generation is { } g
            ? Task.Run(async () =>
            {
                if (await MembershipTable.WaitDeclaredDeadAsync(database, clusterId, silo.SiloPort, g, giveUpDeathWatch) is { } at)
                {
                    Volatile.Write(ref kill.DeclaredDeadAt, at);
                }
            }, CancellationToken.None)
            : Task.CompletedTask;
        if (restart)
        {
            Volatile.Write(ref kill.StartedAgainAt, Stopwatch.GetTimestamp());
            await silo.StartAsync();
            Volatile.Write(ref kill.ReadyAgainAt, Stopwatch.GetTimestamp());
            memory.Add($"{Label(silos, victim)} started again", silo.ProcessId);
            Console.Error.WriteLine($"bench: {clusterId}: {Label(silos, victim)} ready again after {Stopwatch.GetElapsedTime(kill.KilledAt).TotalSeconds:F1} s");
        }
        return deathWatch;
    }

    /// <summary>
    /// The silo hosting the hot SKU's grain while it is the cluster's only SkuGrain activation, from the Orleans dashboard's
    /// counters (refreshed about every second; polled for up to 30 s). Silo 1 if the dashboard does not tell.
    /// </summary>
    private static async Task<(int Silo, string HowChosen)> HotSkuSiloAsync(BenchSilo[] silos)
    {
        using var http = new HttpClient { BaseAddress = silos[0].BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
        var why = "no SkuGrain activation shown";
        while (Stopwatch.GetTimestamp() < deadline)
        {
            try
            {
                var counters = JsonNode.Parse(await http.GetStringAsync("dashboard/DashboardCounters"));
                var ports = (counters?["simpleGrainStats"]?.AsArray() ?? [])
                    .Where(g => g?["grainType"]?.GetValue<string>().EndsWith(".SkuGrain", StringComparison.Ordinal) == true
                                && g["activationCount"]?.GetValue<int>() > 0 && g["siloAddress"] is not null)
                    .Select(g => SiloPortOf(g!["siloAddress"]!.GetValue<string>()))
                    .Distinct()
                    .ToArray();
                var index = ports.Length == 1 ? Array.FindIndex(silos, s => s.SiloPort == ports[0]) : -1;
                if (index >= 0)
                {
                    return (index, "hosts the hot SKU's grain, per the Orleans dashboard");
                }
                why = ports.Length > 1 ? "SkuGrain activations on several silos" : why;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
            {
                why = e.GetType().Name;
            }
            await Task.Delay(500);
        }
        return (1, $"the dashboard did not tell where the hot SKU lives ({why}); silo 1 by default");
    }

    /// <summary>"127.0.0.1:11111@123456" → 11111.</summary>
    private static int SiloPortOf(string siloAddress)
    {
        var colon = siloAddress.LastIndexOf(':');
        var at = siloAddress.IndexOf('@', StringComparison.Ordinal);
        return int.Parse(siloAddress[(colon + 1)..(at < 0 ? siloAddress.Length : at)], CultureInfo.InvariantCulture);
    }

    private sealed record Resent(IReadOnlyList<AckedOrder> Acked, long MadeBeforeKill, long Refused, long Unsettled, string Statuses);

    /// <summary>
    /// Sends every failed checkout again, same body and Idempotency-Key, until it gets a final answer (201, 409, 422) or
    /// <see cref="ResendRounds"/> rounds passed: the stored answer of a checkout that went through, or the checkout now.
    /// </summary>
    private static async Task<Resent> ResendAsync(IReadOnlyList<LoadRequest> failed, HttpClient client, DateTimeOffset killedAtUtc)
    {
        var acked = new ConcurrentBag<AckedOrder>();
        long madeBeforeKill = 0;
        var statuses = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        long refused = 0;
        var pending = failed;
        for (var round = 0; round < ResendRounds && pending.Count > 0; round++)
        {
            if (round > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
            var again = new ConcurrentQueue<LoadRequest>();
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (request, _) =>
            {
                string key;
                try
                {
                    using var message = new HttpRequestMessage(request.Method, request.Path) { Content = new ByteArrayContent(request.Body!) };
                    message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    message.Headers.Add("Idempotency-Key", request.IdempotencyKey);
                    using var response = await client.SendAsync(message);
                    var body = await response.Content.ReadAsStringAsync();
                    key = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                    switch (response.StatusCode)
                    {
                        case HttpStatusCode.Created:
                            acked.Add(new AckedOrder(Shop.OrderIdOf(body), FlashSaleScenario.HotSku, 1));
                            if (JsonNode.Parse(body)!["orders"]![0]!["createdAt"]!.GetValue<DateTimeOffset>() < killedAtUtc)
                            {
                                Interlocked.Increment(ref madeBeforeKill);
                            }
                            break;
                        case HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity:
                            Interlocked.Increment(ref refused);
                            break;
                        default:
                            again.Enqueue(request);
                            break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    key = "no answer";
                    again.Enqueue(request);
                }
                statuses.AddOrUpdate($"round {round + 1} {key}", 1, (_, n) => n + 1);
            });
            pending = again.ToArray();
        }
        return new Resent(acked.ToArray(), madeBeforeKill, refused, pending.Count,
            string.Join(", ", statuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}: {s.Value:N0}")));
    }

    private static string Describe(KillRecord kill, LoadResult result, int siloCount, int ackedBefore, int ackedAfter, int failed, long refused,
        Resent resent, BenchContext ctx)
    {
        var c = CultureInfo.InvariantCulture;
        var timeline = result.Timeline;
        var mode = FlashSaleScenario.Mode(result);
        var stopped = FlashSaleScenario.StopText(result, ctx);
        if (kill.KilledAt == 0)
        {
            return $"{mode}{(siloCount > 1 ? $" over {siloCount} silos" : "")}; stopped: {stopped} before the kill trigger: nothing was killed";
        }
        var killAt = timeline.Offset(kill.KilledAt);
        string Since(long timestamp) => timestamp == 0 ? "never" : $"{Stopwatch.GetElapsedTime(kill.KilledAt, timestamp).TotalSeconds.ToString("F1", c)} s";
        var steady = SteadyAgain(timeline, killAt, result.SendingEnded, out var baseline);
        var steadyText = steady is { } s ? $"{s.TotalSeconds.ToString("F1", c)} s after the kill" : "not within the run";
        string Window(string label, TimeSpan from, TimeSpan to)
        {
            var requests = timeline.Count(from, to);
            var errors = timeline.Count(Outcome.Error, from, to);
            return $"{label}: {errors:N0} errors of {requests:N0} requests ({(requests == 0 ? 0 : 100.0 * errors / requests).ToString("F1", c)}%)";
        }
        var all = result.Kind("checkout");
        var text = new List<string>();
        if (siloCount == 1)
        {
            var recovered = kill.First201AfterRestart != 0 ? timeline.Offset(kill.First201AfterRestart) : result.Elapsed;
            text.Add($"{mode}; SIGKILLed the silo at {killAt.TotalSeconds.ToString("F1", c)} s (reaped {Since(kill.ExitedAt)} later), started again on the same "
                + $"ports and database: ready {Since(kill.ReadyAgainAt)} after the kill, **first 201 {Since(kill.First201AfterRestart)} after the kill** (recovery), "
                + $"201s at a steady rate again {steadyText}; the new silo marked the killed one dead in the membership table {Since(kill.DeclaredDeadAt)} after the kill");
            text.Add(Window("outage (kill → first 201)", killAt, recovered));
        }
        else
        {
            var outageEnd = steady is { } st ? killAt + st : result.Elapsed;
            var outEvents = result.ServerEvents.Where(e => e.Server == kill.Victim && !e.Up && e.Timestamp >= kill.KilledAt).Select(e => e.Timestamp).DefaultIfEmpty(0).Min();
            text.Add($"{mode} over {siloCount} silos (connection i prefers silo i mod {siloCount}; a silo that leaves a request unanswered is taken out of the rotation until "
                + $"/health/ready answers); SIGKILLed silo {kill.Victim} ({kill.HowChosen}) at {killAt.TotalSeconds.ToString("F1", c)} s, not started again; "
                + $"its endpoint taken out {Since(outEvents)} after the kill; Orleans declared it dead {Since(kill.DeclaredDeadAt)} after the kill; "
                + $"**201s at a steady rate again {steadyText}** (recovery)");
            text.Add(Window("outage (kill → steady again)", killAt, outageEnd));
            if (kill.DeclaredDeadAt != 0)
            {
                text.Add(Window("kill → declared dead", killAt, timeline.Offset(kill.DeclaredDeadAt)));
            }
        }
        text.Add($"steady again = the first 100 ms after the kill with a 201 from which the 201 rate in every {SteadyWindowSeconds} s window (sliding by 1 s, "
            + $"the last ones shorter, at least 1 s) until the load stopped (sold out or --max-duration) is ≥ {SteadyFraction.ToString("P0", c)} of the median "
            + $"201s/s of the {BaselineSeconds} whole seconds before the kill ({baseline.ToString("F0", c)}/s)");
        text.Add($"whole run: {all.Errors:N0} errors of {all.Requests:N0} requests ({(all.Requests == 0 ? 0 : 100.0 * all.Errors / all.Requests).ToString("F1", c)}%)");
        text.Add($"orders acknowledged: {ackedBefore:N0} before the kill, {ackedAfter:N0} after");
        text.Add($"{refused:N0} requests refused a connection (nothing listened; not sent again); "
            + $"{failed:N0} other requests without an answer or with an error, sent again after the load with their Idempotency-Key: {resent.Acked.Count:N0} got a 201 "
            + $"(checked with the rest; {resent.MadeBeforeKill:N0} of them for an order created before the kill, whose first answer the kill cut off, "
            + $"the others made now), {resent.Refused:N0} a 409/422, {resent.Unsettled:N0} no final answer ({(resent.Statuses.Length == 0 ? "none" : resent.Statuses)})");
        text.Add($"stopped: {stopped}");
        return string.Join("; ", text);
    }

    /// <summary>
    /// The time from the kill (<paramref name="killAt"/>, from the run's start) to the first 100 ms with a 201 from whose start
    /// the 201 rate in every <see cref="SteadyWindowSeconds"/> s window, sliding by 1 s up to <paramref name="runEnd"/> (when the
    /// run stopped sending: sold out or --max-duration; the last windows shorter, at least 1 s), held at least
    /// <see cref="SteadyFraction"/> of <paramref name="baseline"/>: the median 201s per second over the
    /// <see cref="BaselineSeconds"/> whole seconds before the kill (from the run's second second on). Null if never.
    /// </summary>
    private static TimeSpan? SteadyAgain(OutcomeTimeline timeline, TimeSpan killAt, TimeSpan runEnd, out double baseline)
    {
        var second = TimeSpan.FromSeconds(1);
        var step = TimeSpan.FromMilliseconds(OutcomeTimeline.BucketMs);
        // Windows on the timeline's 100 ms grid: the baseline ends where the kill's bucket begins, recovery is sought from where it ends.
        var killBucketEnd = step * Math.Ceiling(killAt / step);
        var perSecond = Enumerable.Range(1, BaselineSeconds)
            .Select(k => killBucketEnd - step - k * second)
            .Where(from => from >= second)
            .Select(from => (double)timeline.Count(Outcome.Ok, from, from + second))
            .Order()
            .ToArray();
        baseline = perSecond.Length > 0
            ? perSecond[perSecond.Length / 2]
            : timeline.Count(Outcome.Ok, TimeSpan.Zero, killAt) / Math.Max(killAt.TotalSeconds, 0.1);
        if (baseline <= 0)
        {
            return null;
        }
        var threshold = SteadyFraction * baseline;
        var window = SteadyWindowSeconds * second;
        for (var at = killBucketEnd; at + second <= runEnd; at += step)
        {
            var steady = timeline.Count(Outcome.Ok, at, at + step) > 0;
            for (var from = at; steady && from + second <= runEnd; from += second)
            {
                var to = from + window <= runEnd ? from + window : runEnd;
                steady = timeline.Count(Outcome.Ok, from, to) / (to - from).TotalSeconds >= threshold;
            }
            if (steady)
            {
                return at - killAt;
            }
        }
        return null;
    }
}
