using Orleans.Trade.Risk;

namespace Orleans.Trade.Tests.Risk;

/// <summary>The shipped model's quality and the promise that <c>risk train</c> and <c>risk evaluate</c> print the same numbers.</summary>
public sealed class RiskModelTests
{
    [Fact]
    public void The_shipped_model_reaches_auc_095_on_the_held_out_synthetic_data()
    {
        var model = RiskModel.Load(RiskTestData.DefaultModelPath);
        var split = RiskDataSplit.ByTime(RiskTestData.DefaultTrainingData, CategoryRisk.Default);

        var metrics = RiskTraining.Evaluate(model, split.Holdout, RiskThresholds.Default);

        Assert.True(metrics.AucRoc >= 0.95, metrics.Format());
        Assert.True(metrics.Fraud > 50, metrics.Format());
        Assert.Equal(RiskFeatures.Names, model.Metadata.FeatureNames);
        Assert.Equal(model.Metadata.HoldoutMetricsByTrainer[model.Metadata.Trainer], metrics);
    }

    [Fact]
    public void The_shipped_model_also_separates_payments_from_a_seed_it_never_saw()
    {
        var model = RiskModel.Load(RiskTestData.DefaultModelPath);
        var rows = RiskDataSplit.All(RiskGenerator.Generate(20_000, 2026), CategoryRisk.Default);

        var metrics = RiskTraining.Evaluate(model, rows, RiskThresholds.Default);

        Assert.True(metrics.AucRoc >= 0.95, metrics.Format());
    }

    [Fact]
    public void Training_prints_the_metrics_that_evaluating_the_saved_model_on_the_same_split_prints()
    {
        var directory = RiskTestData.TempDirectory();
        var path = Path.Combine(directory, "model.zip");
        var rows = RiskGenerator.Generate(15_000, 11);

        var report = RiskTraining.Train(rows, path, seed: 3, RiskThresholds.Default, TimeProvider.System);
        var evaluated = RiskTraining.Evaluate(RiskModel.Load(path), RiskDataSplit.ByTime(rows, CategoryRisk.Default).Holdout, RiskThresholds.Default);

        Assert.Equal(report.SavedModelHoldoutMetrics, evaluated);
        Assert.Equal(report.SavedModelHoldoutMetrics.Format(), evaluated.Format());
        Assert.Equal(report.CandidateMetrics[report.Saved.Trainer], evaluated); // the in-memory model and the saved file agree
        Assert.Equal([RiskTraining.FastTree, RiskTraining.LightGbm], report.CandidateMetrics.Keys.Order());
        Assert.InRange(new FileInfo(path).Length, 1, 512 * 1024);
    }

    /// <summary>
    /// Files trained together are each split by time on their own, so the analysts' labels (newer than the synthetic history)
    /// are learnt from too. Cut as one, every label fell in the newest 20% held out, and the saved model never learnt one.
    /// </summary>
    [Fact]
    public void Files_trained_together_are_each_split_by_time_so_the_newest_files_labels_are_learnt()
    {
        var synthetic = RiskGenerator.Generate(2_000, 5);
        // Two hundred analysts' labels, all fraud, dated after every synthetic payment.
        var labels = RiskGenerator.Generate(200, 6)
            .Select(r => new LabelledRiskEvent(r.Event with { OccurredAt = r.Event.OccurredAt.AddDays(400) }, IsFraud: true)).ToList();
        var oldestSynthetic = synthetic.OrderBy(r => r.Event.OccurredAt).Take(1_600).ToList();

        var split = RiskDataSplit.ByTime([synthetic, labels], CategoryRisk.Default);

        Assert.Equal(1_600 + 160, split.Training.Count);
        Assert.Equal(400 + 40, split.Holdout.Count);
        Assert.Equal(oldestSynthetic.Count(r => r.IsFraud) + 160, split.Training.Count(r => r.IsFraud));
        // One file is cut as before: at the oldest 80% of it.
        var one = RiskDataSplit.ByTime([.. synthetic, .. labels], CategoryRisk.Default);
        Assert.Equal(1_760, one.Training.Count);
    }

    [Fact]
    public void A_model_file_without_risk_metadata_is_refused()
    {
        var path = Path.Combine(RiskTestData.TempDirectory(), "not-a-model.zip");
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
        {
            zip.CreateEntry("readme.txt");
        }

        Assert.Throws<InvalidDataException>(() => RiskModel.Load(path));
    }

    [Fact]
    public void The_shipped_model_is_small()
    {
        Assert.InRange(new FileInfo(RiskTestData.DefaultModelPath).Length, 1, 512 * 1024);
    }
}
