using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Orleans.Trade.Risk;

/// <summary>A labelled file replayed into feature vectors and split by time: the oldest 80% to learn from, the newest 20% held out.</summary>
public sealed record RiskDataSplit(
    IReadOnlyList<(bool IsFraud, float[] Features)> Training,
    IReadOnlyList<(bool IsFraud, float[] Features)> Holdout)
{
    public const double HoldoutFraction = 0.2;

    /// <summary>
    /// Replays every attempt in time order (the held-out attempts see the history that came before them, as in the silo),
    /// then cuts at ⌊n × 0.8⌋. The split depends on the file only, so <c>train</c> and <c>evaluate</c> agree on it.
    /// </summary>
    public static RiskDataSplit ByTime(IReadOnlyList<LabelledRiskEvent> rows, CategoryRisk categoryRisk) =>
        ByTime([rows], categoryRisk);

    /// <summary>
    /// Several files trained together (the synthetic history and the analysts' labels): replayed together in time order, each
    /// cut at its own ⌊n × 0.8⌋, so the oldest 80% of every file is learnt from and its newest 20% held out. Cut as one, the
    /// labels (newer than any synthetic row) all fell in the held-out part and the saved model never learnt one.
    /// </summary>
    public static RiskDataSplit ByTime(IReadOnlyList<IReadOnlyList<LabelledRiskEvent>> files, CategoryRisk categoryRisk)
    {
        var heldOut = new HashSet<LabelledRiskEvent>(ReferenceEqualityComparer.Instance);
        foreach (var file in files)
        {
            var cut = (int)Math.Floor(file.Count * (1 - HoldoutFraction));
            heldOut.UnionWith(file.OrderBy(r => r.Event.OccurredAt).Skip(cut));
        }
        var all = RiskReplay.Features(files.SelectMany(f => f), categoryRisk);
        return new RiskDataSplit(
            all.Where(r => !heldOut.Contains(r.Row)).Select(r => (r.Row.IsFraud, r.Features)).ToList(),
            all.Where(r => heldOut.Contains(r.Row)).Select(r => (r.Row.IsFraud, r.Features)).ToList());
    }

    /// <summary>Every attempt's features, in time order.</summary>
    public static List<(bool IsFraud, float[] Features)> All(IReadOnlyList<LabelledRiskEvent> rows, CategoryRisk categoryRisk) =>
        RiskReplay.Features(rows, categoryRisk).Select(r => (r.Row.IsFraud, r.Features)).ToList();
}

/// <summary>What <see cref="RiskTraining.Train"/> did: each trainer's held-out metrics, which one was kept, and the saved model's.</summary>
public sealed record RiskTrainingReport(
    IReadOnlyDictionary<string, RiskMetrics> CandidateMetrics,
    RiskModelMetadata Saved,
    RiskMetrics SavedModelHoldoutMetrics);

/// <summary>
/// Trains FastTree and LightGBM (gradient-boosted trees, Platt-calibrated) on the same split, keeps the one with the better
/// held-out AUPRC (AUC-ROC breaks ties: with 1–3% fraud, AUPRC tells apart what AUC-ROC rounds away), and saves it with a
/// feature-contribution step so every score can name its reasons.
/// </summary>
public static class RiskTraining
{
    public const string FastTree = "fasttree";
    public const string LightGbm = "lightgbm";

    public const int Trees = 200;
    public const int Leaves = 16;
    public const int MinimumPaymentsPerLeaf = 10;
    public const double LearningRate = 0.1;

    public static RiskTrainingReport Train(
        IReadOnlyList<LabelledRiskEvent> rows,
        string outPath,
        int seed,
        RiskThresholds thresholds,
        TimeProvider clock,
        string? dataFile = null,
        string? version = null,
        CategoryRisk? categoryRisk = null) =>
        Train([rows], outPath, seed, thresholds, clock, dataFile, version, categoryRisk);

    /// <summary>Trains on several files together, each split by time on its own (<see cref="RiskDataSplit.ByTime(IReadOnlyList{IReadOnlyList{LabelledRiskEvent}}, CategoryRisk)"/>).</summary>
    public static RiskTrainingReport Train(
        IReadOnlyList<IReadOnlyList<LabelledRiskEvent>> files,
        string outPath,
        int seed,
        RiskThresholds thresholds,
        TimeProvider clock,
        string? dataFile = null,
        string? version = null,
        CategoryRisk? categoryRisk = null)
    {
        var split = RiskDataSplit.ByTime(files, categoryRisk ?? CategoryRisk.Default);
        if (split.Training.All(r => !r.IsFraud) || split.Training.All(r => r.IsFraud))
        {
            // Bad data, not a bug: the command says so in a line and exits 1 (it used to crash with a stack trace).
            throw new InvalidDataException("The training part (the oldest 80% of each file) needs both fraud and legitimate payments.");
        }
        var ml = new MLContext(seed);
        var training = ml.Data.LoadFromEnumerable(ToInputs(split.Training));

        var candidates = new Dictionary<string, (ITransformer Model, ITransformer Pipeline)>(StringComparer.Ordinal);
        var metrics = new Dictionary<string, RiskMetrics>(StringComparer.Ordinal);
        foreach (var trainer in new[] { FastTree, LightGbm })
        {
            var model = Fit(ml, trainer, training, seed);
            candidates[trainer] = model;
            metrics[trainer] = Evaluate(ml, model.Model, split.Holdout, thresholds);
        }
        var best = metrics.OrderByDescending(m => m.Value.Auprc).ThenByDescending(m => m.Value.AucRoc).ThenBy(m => m.Key, StringComparer.Ordinal).First().Key;

        var trainedAt = clock.GetUtcNow();
        var metadata = new RiskModelMetadata(
            Version: version ?? $"{trainedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{best}-s{seed}",
            Trainer: best,
            TrainedAt: trainedAt,
            FeatureNames: RiskFeatures.Names,
            TrainingPayments: split.Training.Count,
            HoldoutPayments: split.Holdout.Count,
            Seed: seed,
            DataFile: dataFile is null ? null : Path.GetFileName(dataFile),
            HoldoutMetricsByTrainer: metrics);
        RiskModel.Save(ml, candidates[best].Pipeline, training.Schema, metadata, outPath);

        // The printed numbers are the saved file's, scored the way `risk evaluate` and the silo score.
        var saved = RiskModel.Load(outPath);
        return new RiskTrainingReport(metrics, metadata, Evaluate(saved, split.Holdout, thresholds));
    }

    /// <summary>Scores each row through <paramref name="model"/> (pooled engines, as in the silo) and measures.</summary>
    public static RiskMetrics Evaluate(RiskModel model, IReadOnlyList<(bool IsFraud, float[] Features)> rows, RiskThresholds thresholds) =>
        RiskMetrics.Compute(rows.Select(r => (r.IsFraud, model.Predict(r.Features).Probability)).ToList(), thresholds.Review, thresholds.Block);

    private static RiskMetrics Evaluate(MLContext ml, ITransformer model, IReadOnlyList<(bool IsFraud, float[] Features)> rows, RiskThresholds thresholds)
    {
        var predictions = model.Transform(ml.Data.LoadFromEnumerable(ToInputs(rows)));
        var probabilities = predictions.GetColumn<float>("Probability").ToArray();
        return RiskMetrics.Compute(rows.Select((r, i) => (r.IsFraud, (double)probabilities[i])).ToList(), thresholds.Review, thresholds.Block);
    }

    private static (ITransformer Model, ITransformer Pipeline) Fit(MLContext ml, string trainer, IDataView training, int seed)
    {
        switch (trainer)
        {
            case FastTree:
            {
                var model = ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
                {
                    NumberOfTrees = Trees,
                    NumberOfLeaves = Leaves,
                    MinimumExampleCountPerLeaf = MinimumPaymentsPerLeaf,
                    LearningRate = LearningRate,
                    NumberOfThreads = 1, // one thread: the same file and seed give the same model
                    Seed = seed,
                }).Fit(training);
                return (model, model.Append(ContributionsOf(ml, model, training)));
            }
            case LightGbm:
            {
                var model = ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
                {
                    NumberOfIterations = Trees,
                    NumberOfLeaves = Leaves,
                    MinimumExampleCountPerLeaf = MinimumPaymentsPerLeaf,
                    LearningRate = LearningRate,
                    NumberOfThreads = 1,
                    Seed = seed,
                    Silent = true,
                }).Fit(training);
                return (model, model.Append(ContributionsOf(ml, model, training)));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(trainer), trainer, "Unknown trainer.");
        }
    }

    private static ITransformer ContributionsOf<TModel, TCalibrator>(
        MLContext ml,
        ISingleFeaturePredictionTransformer<Microsoft.ML.Calibrators.CalibratedModelParametersBase<TModel, TCalibrator>> model,
        IDataView training)
        where TModel : class, Microsoft.ML.Trainers.ICalculateFeatureContribution
        where TCalibrator : class, Microsoft.ML.Calibrators.ICalibrator =>
        ml.Transforms.CalculateFeatureContribution(model, numberOfPositiveContributions: RiskFeatures.Count, numberOfNegativeContributions: 0, normalize: false)
            .Fit(model.Transform(training));

    private static IEnumerable<RiskModelInput> ToInputs(IEnumerable<(bool IsFraud, float[] Features)> rows) =>
        rows.Select(r => new RiskModelInput { Features = r.Features, Label = r.IsFraud });
}
