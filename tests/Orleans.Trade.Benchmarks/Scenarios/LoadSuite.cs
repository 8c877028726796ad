using Orleans.Trade.Benchmarks.Harness;

namespace Orleans.Trade.Benchmarks.Scenarios;

/// <summary>
/// The issue-6 load scenarios, each against its own silo process (cluster-kill: three) and database on one throw-away PostgreSQL
/// started for the run. <c>all</c> runs flash-sale, peer, ceiling, flash-sale-paid, mixed, bulk-sync, flash-sale-kill and
/// cluster-kill in sequence and writes one table.
/// Common options: --units, --buyers, --skus, --updates, --duration, --max-duration, --ceiling-duration, --warmup (checkouts) or
/// --warmup-seconds (default 30; the paid sale --paid-warmup-seconds, default 90), --rate
/// (open model), --batch, --bulk-connections, --stock-per-sku, --silo-build r2r|plain (the silo published with ReadyToRun, as the
/// Docker image ships it, or as built), --silo-dll, --silo-env NAME=VALUE;…, --pg-dir, --pg-settings NAME=VALUE;… (server parameters a reload applies), --keep-postgres true, --age-wal false (a new server's WAL as it is),
/// --compare false|ceiling (flash sales without the peer and the ceiling, or with the ceiling only), --coupon CODE (flash-sale:
/// every checkout names the seller's coupon of that code; at most 10,000 units).
/// flash-sale-kill and cluster-kill: --kill-after (seconds into the sale, default 40% of --max-duration) and --kill-after-orders
/// (default 40% of --units), whichever comes first; cluster-kill also --kill-silo (hot, the default: the silo hosting the hot
/// SKU's grain; or 0, 1, 2); both take --probe-timeout (seconds) and --missed-probes for Orleans' failure detection.
/// See <see cref="SiloKillScenario"/>.
/// </summary>
public static class LoadSuite
{
    public static readonly string[] Names = ["all", "flash-sale", "flash-sale-paid", "peer", "ceiling", "mixed", "bulk-sync", "flash-sale-kill", "cluster-kill"];

    public static async Task<string> RunAsync(string scenario, BenchmarkArgs args)
    {
        var otherSilo = args.Text("silo-dll", null);
        var siloDll = await RepoPaths.SiloDllAsync(otherSilo, otherSilo is null ? args.Text("silo-build", "r2r")! : "plain");
        var pgDir = args.Text("pg-dir", "/tmp/orleans-trade-bench-pg")!;
        var keep = args.Text("keep-postgres", "false") == "true";
        foreach (var setting in (args.Text("silo-env", null) ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = setting.IndexOf('=');
            if (eq <= 0)
            {
                throw new ArgumentException($"--silo-env takes NAME=VALUE pairs separated by ';', not '{setting}'.");
            }
            BenchSilo.RunEnvironment[setting[..eq]] = setting[(eq + 1)..];
        }
        var logDir = Path.Combine(Path.GetTempPath(), "orleans-trade-bench-logs");
        var notes = new List<string> { $"Load average when the run began (1, 5, 15 min): {LoadAverage()}; other work on the machine skews every row alike only if it stays steady." };
        var rows = new List<ScenarioRow>();
        await using var postgres = await BenchPostgres.StartAsync(pgDir, keep);
        if (args.Text("age-wal", "true") == "true")
        {
            var aged = await postgres.AgeWalAsync(1024);
            Console.Error.WriteLine($"bench: WAL aged: {aged}");
            notes.Add($"PostgreSQL's WAL aged before the first scenario, as on a server that has been writing for a while: {aged}. A new server "
                + "creates and zero-fills each WAL segment the first time it needs one, where a server that has checkpointed through its WAL reuses old ones; --age-wal false skips this.");
        }
        var pgSettings = (args.Text("pg-settings", null) ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.Split('=', 2) is [var name, var value] ? (name.Trim(), value.Trim())
                : throw new ArgumentException($"--pg-settings takes NAME=VALUE pairs separated by ';', not '{s}'."))
            .ToList();
        if (pgSettings.Count > 0)
        {
            var applied = await postgres.ConfigureAsync(pgSettings);
            Console.Error.WriteLine($"bench: PostgreSQL set: {applied}");
            notes.Add($"PostgreSQL parameters set for this run (--pg-settings): {applied}.");
        }
        var ctx = new BenchContext(args, postgres, siloDll, logDir);
        // Read every size once so the settings line lists them all, whichever scenarios run.
        _ = (ctx.Units, ctx.Buyers, ctx.Skus, ctx.Updates, ctx.Duration, ctx.MaxDuration, ctx.CeilingDuration, ctx.WarmupCount, ctx.WarmupTime, ctx.PaidWarmupTime, ctx.Rate);
        var steps = scenario switch
        {
            "all" => ["flash-sale", "peer", "ceiling", "flash-sale-paid", "mixed", "bulk-sync", "flash-sale-kill", "cluster-kill"],
            // --compare false: the product alone; ceiling: with the ceiling only (quick A/B runs of one build against another).
            "flash-sale" or "flash-sale-paid" when args.Text("compare", "true") == "false" => [scenario],
            "flash-sale" or "flash-sale-paid" when args.Text("compare", "true") == "ceiling" => [scenario, "ceiling"],
            "flash-sale" or "flash-sale-paid" => [scenario, "peer", "ceiling"],
            _ => new[] { scenario },
        };
        foreach (var step in steps)
        {
            if (step != "ceiling") // the ceiling does not touch PostgreSQL
            {
                var settled = await postgres.QuietAsync();
                Console.Error.WriteLine($"bench: PostgreSQL settled before {step} in {settled.TotalSeconds:F1} s (checkpoint, no autovacuum at work)");
            }
            var started = DateTime.UtcNow;
            var first = rows.Count; // a step's first row is its whole: mixed traffic adds a row per kind of request after it
            switch (step)
            {
                case "flash-sale": rows.Add(await FlashSaleScenario.ProductAsync(ctx, paid: false)); break;
                case "flash-sale-paid": rows.Add(await FlashSaleScenario.ProductAsync(ctx, paid: true)); break;
                case "peer": rows.Add(await FlashSaleScenario.PeerAsync(ctx)); break;
                case "ceiling": rows.Add(await FlashSaleScenario.CeilingAsync(ctx)); break;
                case "mixed": rows.AddRange(await MixedScenario.RunAsync(ctx)); break;
                case "bulk-sync": rows.Add(await BulkSyncScenario.RunAsync(ctx)); break;
                case "flash-sale-kill": rows.Add(await SiloKillScenario.OneSiloAsync(ctx)); break;
                case "cluster-kill": rows.Add(await SiloKillScenario.ClusterAsync(ctx)); break;
            }
            Console.Error.WriteLine($"bench: {step} finished in {(DateTime.UtcNow - started).TotalSeconds:F0} s: {rows[first].Throughput:N1} ops/s, invariants {(rows[first].Invariants?.Hold ?? true ? "OK" : "VIOLATED")}");
        }
        notes.Add("ops: checkouts answered 201 (flash sales, peer, ceiling), requests that did their work (mixed), stock items answered (bulk-sync); "
            + "errors: answers other than the expected 2xx and the 409 of a sold-out SKU, plus time-outs and connection errors; latency from the request's start "
            + "(closed model) or its scheduled start (open model, --rate), HdrHistogram.");
        notes.Add("Before every scenario but the ceiling the harness checkpoints PostgreSQL and waits until no autovacuum worker runs, so no scenario "
            + "is measured in the wake of the one before. The peer runs with its fastest Npgsql pool (tried first, see its note) unless --peer-pool sets one.");
        notes.Add("× peer / × ceiling: ops/s divided by the peer's and the ceiling's, measured in the same run with the same connections and request body. "
            + "The peer and the ceiling run inside the harness process, the product in its own silo process; all share the machine's cores with PostgreSQL and the load generator.");
        notes.Add("peak RSS: the highest resident memory (VmRSS, and VmHWM after resetting it through clear_refs) of the silo process from /proc, "
            + "sampled every 250 ms from the start of the load (the flash sales' warm-up included) to its end; seeding before and checking after are outside the window. "
            + "Mixed: on its first row, for all of its kinds. Kill scenarios: the highest of their silo processes (the killed one until the kill, the one "
            + "started again from when it was ready), each listed in the row's note.");
        if (steps.Any(s => s.EndsWith("-kill", StringComparison.Ordinal)))
        {
            notes.Add("flash-sale-kill, cluster-kill: the silo is killed with SIGKILL (no graceful shutdown). A connection whose request ends in an error waits "
                + "250 ms before its next one, as a client backs off, so the error count is bounded by the buyers and the outage, not by a tight retry loop. "
                + "Errors during an outage are counted by when they ended, to the 100 ms. Failure detection: "
                + (args.Text("probe-timeout", null) is null && args.Text("missed-probes", null) is null
                    ? "Orleans' defaults (probe timeout 5 s, 3 missed probes, 2 votes to declare a silo dead); --probe-timeout and --missed-probes "
                      + "set Orleans:ClusterMembership:ProbeTimeout and NumMissedProbesLimit on every silo."
                    : $"Orleans:ClusterMembership:ProbeTimeout {args.Text("probe-timeout", "5")} s, NumMissedProbesLimit {args.Text("missed-probes", "3")} "
                      + "on every silo (--probe-timeout, --missed-probes)."));
        }
        notes.Add($"Load average when the run ended: {LoadAverage()}. Silo logs: {logDir}.");
        return LoadReport.ToMarkdown($"Checkout load (issue 6): {scenario}", args.Used, postgres.ServerVersion, rows, notes);
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
