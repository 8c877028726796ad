using System.Globalization;
using Orleans.Trade.Risk;

namespace Orleans.Trade.Silo.Risk;

/// <summary>
/// <c>risk generate</c>, <c>risk train</c> and <c>risk evaluate</c>: the risk model's life cycle from the command line.
/// Thresholds come from the <c>Risk</c> configuration section, as in the running silo.
/// </summary>
public static class RiskCommands
{
    public const string Usage =
        "Usage:\n" +
        "  risk generate --out <file.csv> [--payments <n>] [--seed <s>]\n" +
        "  risk train --data <file.csv>[,<file.csv>...] --out <model.zip> [--seed <s>] [--version <id>]\n" +
        "  risk export-labels --out <file.csv>   (the analysts' decided reviews, from the database)\n" +
        "  risk evaluate --data <file.csv> --model <model.zip> [--seed <s>] [--all]";

    public const int DefaultPayments = 50_000;
    public const int DefaultSeed = 1;

    public static async Task<int> RunAsync(IConfiguration configuration, string[] args)
    {
        try
        {
            var options = new RiskOptions();
            configuration.GetSection("Risk").Bind(options);
            var verb = args.Length > 0 ? args[0] : "";
            var flags = Flags(args.Skip(1).ToArray());
            return verb switch
            {
                "generate" => Generate(flags),
                "train" => Train(flags, options),
                "evaluate" => Evaluate(flags, options),
                "export-labels" => await ExportLabels(flags, configuration),
                _ => await UsageError($"Unknown risk command '{verb}'."),
            };
        }
        catch (ArgumentException e)
        {
            return await UsageError(e.Message);
        }
        catch (Exception e) when (e is FormatException or IOException or InvalidDataException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
    }

    private static int Generate(Dictionary<string, string?> flags)
    {
        var output = Required(flags, "out");
        var payments = Int(flags, "payments", DefaultPayments);
        var seed = Int(flags, "seed", DefaultSeed);
        var rows = RiskGenerator.Generate(payments, seed);
        RiskCsv.WriteFile(output, rows);
        var fraud = rows.Count(r => r.IsFraud);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {rows.Count} payments ({fraud} fraud, {(double)fraud / rows.Count:P2}) to {output} (seed {seed})."));
        return 0;
    }

    private static int Train(Dictionary<string, string?> flags, RiskOptions options)
    {
        var data = Required(flags, "data");
        var output = Required(flags, "out");
        var seed = Int(flags, "seed", DefaultSeed);
        // Several files train together, e.g. the synthetic history plus the analysts' labels (risk export-labels).
        var files = data.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(file => (IReadOnlyList<LabelledRiskEvent>)RiskCsv.ReadFile(file, requireLabel: true)).ToList();
        Console.WriteLine($"Read {files.Sum(f => f.Count)} payments ({files.Sum(f => f.Count(r => r.IsFraud))} fraud) from {data}.");
        var report = RiskTraining.Train(files, output, seed, options.Thresholds, TimeProvider.System, data,
            flags.GetValueOrDefault("version"), CategoryRisk.WithOverrides(options.CategoryRisk));
        Console.WriteLine($"Split by time, each file on its own: trained on the oldest {report.Saved.TrainingPayments}, held out the newest {report.Saved.HoldoutPayments}.");
        foreach (var (trainer, metrics) in report.CandidateMetrics)
        {
            Console.WriteLine($"{trainer} on the held-out split:");
            Console.Write(metrics.Format());
        }
        Console.WriteLine($"Kept {report.Saved.Trainer} (better held-out AUPRC). Saved {output} ({new FileInfo(output).Length / 1024} KB).");
        PrintModelMetrics(report.Saved.Version, report.Saved.Trainer, "the held-out split", report.SavedModelHoldoutMetrics);
        return 0;
    }

    private static int Evaluate(Dictionary<string, string?> flags, RiskOptions options)
    {
        var data = Required(flags, "data");
        var model = RiskModel.Load(Required(flags, "model"));
        var rows = RiskCsv.ReadFile(data, requireLabel: true);
        var categoryRisk = CategoryRisk.WithOverrides(options.CategoryRisk);
        var whole = flags.ContainsKey("all");
        var scored = whole ? RiskDataSplit.All(rows, categoryRisk) : RiskDataSplit.ByTime(rows, categoryRisk).Holdout;
        var metrics = RiskTraining.Evaluate(model, scored, options.Thresholds);
        PrintModelMetrics(model.Version, model.Metadata.Trainer, whole ? "the whole file" : "the held-out split", metrics);
        return 0;
    }

    /// <summary>
    /// Every decided review becomes a label (R-PAY-5): the scored payment event as it was recorded, fraud when the analyst
    /// rejected it. The file has the training columns, so <c>risk train --data synthetic.csv,labels.csv</c> learns from both.
    /// </summary>
    private static async Task<int> ExportLabels(Dictionary<string, string?> flags, IConfiguration configuration)
    {
        var output = Required(flags, "out");
        await using var database = Storage.TradeDatabase.FromConfiguration(configuration);
        var store = new Storage.SqlRiskReviewStore(database);
        var labels = new List<LabelledRiskEvent>();
        await foreach (var review in store.DecidedAsync(CancellationToken.None))
        {
            labels.Add(new LabelledRiskEvent(review.Opening.Event, review.Status == RiskReviewStatus.Rejected));
        }
        RiskCsv.WriteFile(output, labels);
        Console.WriteLine($"Wrote {labels.Count} analysts' labels ({labels.Count(l => l.IsFraud)} fraud) to {output}.");
        return 0;
    }

    private static void PrintModelMetrics(string version, string trainer, string part, RiskMetrics metrics)
    {
        Console.WriteLine($"Model {version} ({trainer}) on {part}:");
        Console.Write(metrics.Format());
    }

    private static Dictionary<string, string?> Flags(string[] args)
    {
        var flags = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            }
            var name = args[i][2..];
            var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            flags[name] = hasValue ? args[++i] : null;
        }
        return flags;
    }

    private static string Required(Dictionary<string, string?> flags, string name) =>
        flags.GetValueOrDefault(name) is { Length: > 0 } value ? value : throw new ArgumentException($"--{name} is required.");

    private static int Int(Dictionary<string, string?> flags, string name, int fallback) =>
        flags.GetValueOrDefault(name) is not { } text ? fallback
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new ArgumentException($"--{name} must be a whole number, not '{text}'.");

    private static async Task<int> UsageError(string message)
    {
        await Console.Error.WriteLineAsync(message);
        await Console.Error.WriteLineAsync(Usage);
        return 2;
    }
}
