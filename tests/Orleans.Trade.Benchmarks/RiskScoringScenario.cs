using System.Diagnostics;
using HdrHistogram;
using Microsoft.Extensions.Options;
using Orleans.Trade.Risk;

namespace Orleans.Trade.Benchmarks;

/// <summary>
/// <c>risk-scoring</c>: the cost the risk model adds to a payment. Synthetic payments are replayed once to build histories
/// and feature vectors, then timed: computing features alone, scoring prepared features, and both together (what the
/// payment grain will do), from several threads at once through one <see cref="RiskScorer"/>.
/// Options: --payments (scored per measure, default 200000), --threads (default: cores), --warmup (default 20000),
/// --history (synthetic payments replayed first, default 50000), --model (default: the shipped model).
/// </summary>
public static class RiskScoringScenario
{
    public static BenchmarkReport Run(BenchmarkArgs args)
    {
        var payments = args.Int("payments", 200_000);
        var threads = args.Int("threads", Environment.ProcessorCount);
        var warmup = args.Int("warmup", 20_000);
        var historySize = args.Int("history", 50_000);
        var modelPath = args.Text("model", null) ?? DefaultModelPath();

        using var scorer = new RiskScorer(Options.Create(new RiskOptions { ModelPath = modelPath, WatchModelFile = false }));
        var events = RiskGenerator.Generate(historySize, 1).Select(r => r.Event).ToArray();
        var replay = new RiskReplay(scorer.CategoryRisk);
        var features = events.Select(replay.Next).ToArray();
        // Scoring reads histories as they stand after the replay: the 24 h windows of the last day are full.
        var histories = events.Select(replay.HistoriesOf).ToArray();

        var rows = new List<LatencyRow>
        {
            Measure("features only", threads, payments, warmup, i => RiskFeatures.Compute(events[i % events.Length], histories[i % events.Length], scorer.CategoryRisk)),
            Measure("score prepared features", threads, payments, warmup, i => scorer.Score(features[i % features.Length])),
            Measure("features + score", threads, payments, warmup, i => scorer.Score(events[i % events.Length], histories[i % events.Length])),
            Measure("features + score", 1, payments / 2, warmup, i => scorer.Score(events[i % events.Length], histories[i % events.Length])),
        };
        return new BenchmarkReport("risk-scoring", args.Used, rows,
        [
            $"Model {scorer.ModelVersion} ({scorer.Current.Metadata.Trainer}); {RiskFeatures.Count} features; top {RiskModel.MaxReasons} reasons from ML.NET feature contributions on every score.",
        ]);
    }

    private static LatencyRow Measure(string name, int threads, int operations, int warmup, Action<int> operation)
    {
        for (var i = 0; i < warmup; i++)
        {
            operation(i);
        }
        var histograms = Enumerable.Range(0, threads).Select(_ => new LongHistogram(Stopwatch.Frequency * 10, 3)).ToArray();
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var histogram = histograms[t];
            for (var i = t; i < operations; i += threads)
            {
                var start = Stopwatch.GetTimestamp();
                operation(i);
                histogram.RecordValue(Stopwatch.GetTimestamp() - start);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        wall.Stop();
        var total = new LongHistogram(Stopwatch.Frequency * 10, 3);
        foreach (var h in histograms)
        {
            total.Add(h);
        }
        return LatencyRow.From(name, threads, total, wall.Elapsed);
    }

    private static string DefaultModelPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "silo", "Risk", "default-model.zip");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new ArgumentException("Cannot find silo/Risk/default-model.zip above the benchmark; pass --model.");
    }
}
