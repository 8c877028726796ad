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
        "  risk train --data <file.csv> --out <model.zip> [--seed <s>] [--version <id>]\n" +
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
                _ => await UsageError($"Unknown risk command '{verb}'."),
            };
        }
        catch (ArgumentException e)
        {
            return await UsageError(e.Message);
        }
        catch (Exception e) when (e is FormatException or IOException or InvalidDataException or UnauthorizedAccessException)
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
        var rows = RiskCsv.ReadFile(data, requireLabel: true);
        Console.WriteLine($"Read {rows.Count} payments ({rows.Count(r => r.IsFraud)} fraud) from {data}.");
        var report = RiskTraining.Train(rows, output, seed, options.Thresholds, TimeProvider.System, data,
            flags.GetValueOrDefault("version"), CategoryRisk.WithOverrides(options.CategoryRisk));
        Console.WriteLine($"Split by time: trained on the oldest {report.Saved.TrainingPayments}, held out the newest {report.Saved.HoldoutPayments}.");
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
