using Microsoft.Extensions.Options;
using Orleans.Trade.Risk;
using static Orleans.Trade.Tests.Risk.RiskTestData;

namespace Orleans.Trade.Tests.Risk;

public sealed class RiskScorerTests
{
    private static RiskScorer Scorer(string path, bool watch = false) =>
        new(Options.Create(new RiskOptions { ModelPath = path, WatchModelFile = watch }));

    [Fact]
    public void The_default_model_loads_out_of_the_box_and_scores_a_takeover_high_with_reasons()
    {
        using var scorer = new RiskScorer(Options.Create(new RiskOptions { WatchModelFile = false }));
        var replay = new RiskReplay(scorer.CategoryRisk);
        for (var i = 0; i < 20; i++)
        {
            replay.Next(Attempt(Noon.AddDays(-40 + 2 * i), 3_000 + 100 * i, buyerCreatedAt: Noon.AddDays(-400)));
        }
        var takeover = Attempt(Noon, 250_000, card: "c-1", device: "d-new", ip: "5.6.7.8", address: "a-drop", ipCountry: "NG",
            shipTo: "NG", category: "phones", buyerCreatedAt: Noon.AddDays(-400));
        var ordinary = Attempt(Noon, 3_500, buyerCreatedAt: Noon.AddDays(-400));

        var high = scorer.Score(takeover, replay.HistoriesOf(takeover));
        var low = scorer.Score(ordinary, replay.HistoriesOf(ordinary));

        Assert.True(high.Score >= scorer.Thresholds.Review, $"takeover scored {high.Score}");
        Assert.True(low.Score < scorer.Thresholds.Review, $"ordinary payment scored {low.Score}");
        Assert.InRange(high.Reasons.Count, 1, RiskModel.MaxReasons);
        Assert.All(high.Reasons, r => Assert.Contains(r.Feature, RiskFeatures.Names));
        Assert.Equal(high.Reasons.OrderByDescending(r => r.Contribution).Select(r => r.Feature), high.Reasons.Select(r => r.Feature));
        Assert.Equal(scorer.ModelVersion, high.ModelVersion);
        Assert.Equal(scorer.Thresholds.Decide(high.Score), high.Decision);
    }

    [Fact]
    public async Task Scoring_from_many_threads_gives_what_scoring_one_at_a_time_gives()
    {
        using var scorer = Scorer(DefaultModelPath);
        var rows = RiskDataSplit.All(RiskGenerator.Generate(3_000, 8), scorer.CategoryRisk);
        var sequential = rows.Select(r => scorer.Score(r.Features)).ToArray();

        var parallel = new RiskScore[rows.Count];
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(() =>
        {
            for (var i = w; i < rows.Count; i += 8)
            {
                parallel[i] = scorer.Score(rows[i].Features);
            }
        }));
        await Task.WhenAll(workers);

        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(sequential[i].Score, parallel[i].Score);
            Assert.Equal(sequential[i].Probability, parallel[i].Probability);
            Assert.Equal(sequential[i].Reasons, parallel[i].Reasons);
        }
    }

    [Fact]
    public async Task A_new_model_dropped_on_the_watched_file_is_used_without_a_restart()
    {
        var directory = TempDirectory();
        var live = Path.Combine(directory, "model.zip");
        File.Copy(DefaultModelPath, live);
        using var scorer = Scorer(live, watch: true);
        var before = scorer.ModelVersion;
        var features = RiskDataSplit.All(RiskGenerator.Generate(500, 4), scorer.CategoryRisk)[^1].Features;
        Assert.Equal(before, scorer.Score(features).ModelVersion);

        // Trained elsewhere, then written over the live file the way `risk train --out` does (temporary file, rename).
        RiskTraining.Train(RiskGenerator.Generate(5_000, 21), live, seed: 21, RiskThresholds.Default, TimeProvider.System, version: "hot-reload-test");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (scorer.ModelVersion == before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal("hot-reload-test", scorer.ModelVersion);
        Assert.Equal("hot-reload-test", scorer.Score(features).ModelVersion);
    }

    [Fact]
    public void A_broken_model_file_leaves_the_current_model_in_place()
    {
        var directory = TempDirectory();
        var live = Path.Combine(directory, "model.zip");
        File.Copy(DefaultModelPath, live);
        using var scorer = Scorer(live);
        var before = scorer.ModelVersion;

        File.WriteAllText(live, "not a zip");

        Assert.ThrowsAny<Exception>(() => scorer.Reload());
        Assert.Equal(before, scorer.ModelVersion);
        Assert.Equal(before, scorer.Score(new float[RiskFeatures.Count]).ModelVersion);
    }

    [Fact]
    public void Reload_switches_to_the_file_on_disk()
    {
        var directory = TempDirectory();
        var live = Path.Combine(directory, "model.zip");
        File.Copy(DefaultModelPath, live);
        using var scorer = Scorer(live);

        RiskTraining.Train(RiskGenerator.Generate(5_000, 22), live, seed: 22, RiskThresholds.Default, TimeProvider.System, version: "reloaded-by-hand");

        Assert.Equal("reloaded-by-hand", scorer.Reload());
        Assert.Equal("reloaded-by-hand", scorer.ModelVersion);
    }
}
