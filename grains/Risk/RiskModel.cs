using System.IO.Compression;
using System.Text.Json;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Orleans.Trade.Risk;

/// <summary>One row the model reads: the feature vector and, when training, the label.</summary>
public sealed class RiskModelInput
{
    [VectorType(RiskFeatures.Count)]
    public float[] Features { get; set; } = new float[RiskFeatures.Count];

    public bool Label { get; set; }
}

/// <summary>What the saved pipeline produces for a row.</summary>
public sealed class RiskModelOutput
{
    public float Score { get; set; }

    /// <summary>The calibrated probability of fraud.</summary>
    public float Probability { get; set; }

    public bool PredictedLabel { get; set; }

    /// <summary>Each feature's contribution to <see cref="Score"/>, in feature order.</summary>
    [VectorType(RiskFeatures.Count)]
    public float[] FeatureContributions { get; set; } = [];
}

/// <summary>What a model file says about itself (<c>risk-model.json</c> inside the zip).</summary>
public sealed record RiskModelMetadata(
    string Version,
    string Trainer,
    DateTimeOffset TrainedAt,
    IReadOnlyList<string> FeatureNames,
    int TrainingPayments,
    int HoldoutPayments,
    int Seed,
    string? DataFile,
    IReadOnlyDictionary<string, RiskMetrics> HoldoutMetricsByTrainer);

/// <summary>How a probability becomes the 0–100 score.</summary>
public static class RiskScoring
{
    /// <summary>The calibrated probability × 100, rounded half away from zero, within 0 … 100.</summary>
    public static int ScoreOf(double probability) =>
        (int)Math.Clamp(Math.Round(probability * 100, MidpointRounding.AwayFromZero), 0, 100);
}

/// <summary>
/// A loaded model: immutable, safe to share. Scoring rents a prediction engine from a pool, so no engine is ever used by
/// two threads at once; a model that is replaced keeps serving the scores already running on it.
/// </summary>
public sealed class RiskModel
{
    public const string MetadataEntry = "risk-model.json";
    public const int MaxReasons = 3;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals, // NaN when a split has no fraud
    };

    private readonly ObjectPool<PooledEngine> _engines;

    private RiskModel(MLContext ml, ITransformer pipeline, RiskModelMetadata metadata)
    {
        Metadata = metadata;
        _engines = new DefaultObjectPoolProvider { MaximumRetained = Environment.ProcessorCount * 4 }
            .Create(new EnginePolicy(ml, pipeline));
    }

    public RiskModelMetadata Metadata { get; }

    public string Version => Metadata.Version;

    public static RiskModel Load(string path)
    {
        using var file = File.OpenRead(path);
        return Load(file, path);
    }

    public static RiskModel Load(Stream zip, string description = "model")
    {
        using var copy = new MemoryStream();
        zip.CopyTo(copy);
        RiskModelMetadata metadata;
        copy.Position = 0;
        using (var archive = new ZipArchive(copy, ZipArchiveMode.Read, leaveOpen: true))
        {
            var entry = archive.GetEntry(MetadataEntry) ?? throw new InvalidDataException($"{description} has no {MetadataEntry}: not a risk model.");
            using var json = entry.Open();
            metadata = JsonSerializer.Deserialize<RiskModelMetadata>(json, Json) ?? throw new InvalidDataException($"{description}: empty {MetadataEntry}.");
        }
        if (!metadata.FeatureNames.SequenceEqual(RiskFeatures.Names))
        {
            throw new InvalidDataException(
                $"{description} (version {metadata.Version}) was trained on features [{string.Join(", ", metadata.FeatureNames)}], " +
                $"this build computes [{string.Join(", ", RiskFeatures.Names)}]: retrain it.");
        }
        copy.Position = 0;
        var ml = new MLContext(seed: metadata.Seed);
        var pipeline = ml.Model.Load(copy, out _);
        return new RiskModel(ml, pipeline, metadata);
    }

    /// <summary>Saves the pipeline (which must produce <see cref="RiskModelOutput"/>) with its metadata in one zip.</summary>
    internal static void Save(MLContext ml, ITransformer pipeline, DataViewSchema inputSchema, RiskModelMetadata metadata, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        // Written beside the target, then renamed over it: a watching silo never reads half a file.
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = File.Create(temporary))
            {
                ml.Model.Save(pipeline, inputSchema, file);
            }
            using (var archive = ZipFile.Open(temporary, ZipArchiveMode.Update))
            {
                var entry = archive.CreateEntry(MetadataEntry, CompressionLevel.Optimal);
                using var json = entry.Open();
                JsonSerializer.Serialize(json, metadata, Json);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The calibrated fraud probability and each feature's contribution (a fresh array).</summary>
    public (double Probability, float[] Contributions) Predict(ReadOnlySpan<float> features)
    {
        if (features.Length != RiskFeatures.Count)
        {
            throw new ArgumentException($"Expected {RiskFeatures.Count} features, got {features.Length}.", nameof(features));
        }
        var engine = _engines.Get();
        try
        {
            features.CopyTo(engine.Input.Features);
            engine.Engine.Predict(engine.Input, ref engine.Output);
            return (engine.Output.Probability, engine.Output.FeatureContributions.ToArray());
        }
        finally
        {
            _engines.Return(engine);
        }
    }

    /// <summary>The score, decision and up to three reasons (the features that raised the score most).</summary>
    public RiskScore Score(ReadOnlySpan<float> features, RiskThresholds thresholds)
    {
        var (probability, contributions) = Predict(features);
        var score = RiskScoring.ScoreOf(probability);
        return new RiskScore(score, probability, thresholds.Decide(score), Reasons(features, contributions), Version);
    }

    private static RiskReason[] Reasons(ReadOnlySpan<float> features, float[] contributions)
    {
        Span<int> top = stackalloc int[MaxReasons];
        var found = 0;
        for (var i = 0; i < contributions.Length; i++)
        {
            if (!(contributions[i] > 0))
            {
                continue;
            }
            // Insertion into a three-place list, largest first; ties keep the lower feature index first.
            var at = found;
            while (at > 0 && contributions[top[at - 1]] < contributions[i])
            {
                at--;
            }
            if (at >= MaxReasons)
            {
                continue;
            }
            for (var k = Math.Min(found, MaxReasons - 1); k > at; k--)
            {
                top[k] = top[k - 1];
            }
            top[at] = i;
            found = Math.Min(found + 1, MaxReasons);
        }
        var reasons = new RiskReason[found];
        for (var r = 0; r < found; r++)
        {
            var feature = RiskFeatures.All[top[r]];
            reasons[r] = new RiskReason(feature.Name, feature.Description, features[top[r]], contributions[top[r]]);
        }
        return reasons;
    }

    private sealed class PooledEngine(PredictionEngine<RiskModelInput, RiskModelOutput> engine)
    {
        public PredictionEngine<RiskModelInput, RiskModelOutput> Engine { get; } = engine;
        public RiskModelInput Input { get; } = new();
        public RiskModelOutput Output = new();
    }

    private sealed class EnginePolicy(MLContext ml, ITransformer pipeline) : PooledObjectPolicy<PooledEngine>
    {
        public override PooledEngine Create() => new(ml.Model.CreatePredictionEngine<RiskModelInput, RiskModelOutput>(pipeline));

        public override bool Return(PooledEngine obj) => true;
    }
}
