using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Risk;

/// <summary>The operator's path: <c>silo -- risk generate</c>, <c>risk train</c>, <c>risk evaluate</c>, through the built silo.</summary>
public sealed class RiskCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private static readonly Dictionary<string, string> NoEnvironment = [];

    private static Task<string> Silo(params string[] args) => CommandRunner.RunAsync("dotnet", [RepoPaths.SiloDll, .. args], NoEnvironment, Timeout);

    /// <summary>The lines after "Model … on the held-out split:" up to the end of that block.</summary>
    private static string ModelBlock(string output)
    {
        var lines = output.Replace("\r", "").Split('\n');
        var start = Array.FindLastIndex(lines, l => l.StartsWith("Model ", StringComparison.Ordinal));
        Assert.True(start >= 0, output);
        return string.Join('\n', lines.Skip(start).TakeWhile((l, i) => i == 0 || l.StartsWith("  ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Generate_train_and_evaluate_print_the_same_held_out_metrics()
    {
        var directory = RiskTestData.TempDirectory();
        var data = Path.Combine(directory, "payments.csv");
        var model = Path.Combine(directory, "model.zip");

        var generated = await Silo("risk", "generate", "--out", data, "--payments", "12000", "--seed", "5");
        var trained = await Silo("risk", "train", "--data", data, "--out", model, "--seed", "5");
        var evaluated = await Silo("risk", "evaluate", "--data", data, "--model", model, "--seed", "5");

        Assert.Contains("Wrote 12000 payments", generated);
        Assert.Contains("fasttree on the held-out split:", trained);
        Assert.Contains("lightgbm on the held-out split:", trained);
        Assert.Contains("AUC-ROC", trained);
        Assert.Contains("review score >=  60", trained);
        Assert.Contains("block  score >=  90", trained);
        Assert.Equal(ModelBlock(trained), ModelBlock(evaluated));
        Assert.True(File.Exists(model));
    }

    [Fact]
    public async Task Evaluate_all_scores_the_whole_file()
    {
        var directory = RiskTestData.TempDirectory();
        var data = Path.Combine(directory, "payments.csv");
        await Silo("risk", "generate", "--out", data, "--payments", "3000", "--seed", "6");

        var evaluated = await Silo("risk", "evaluate", "--data", data, "--model", RiskTestData.DefaultModelPath, "--all");

        Assert.Contains("on the whole file:", evaluated);
        Assert.Contains("payments 3000,", evaluated);
    }

    /// <summary>Data the model cannot learn from (no fraud in it) is refused in a line with exit code 1, not a crash.</summary>
    [Fact]
    public async Task Train_on_a_file_without_fraud_says_so_and_exits_1()
    {
        var directory = RiskTestData.TempDirectory();
        var data = Path.Combine(directory, "approved-only.csv");
        Orleans.Trade.Risk.RiskCsv.WriteFile(data, Orleans.Trade.Risk.RiskGenerator.Generate(1_000, 8).Where(r => !r.IsFraud));

        var (exitCode, _, stderr) = await CommandRunner.RunToExitAsync("dotnet",
            [RepoPaths.SiloDll, "risk", "train", "--data", data, "--out", Path.Combine(directory, "model.zip")], NoEnvironment, Timeout);

        Assert.True(exitCode == 1, $"exit {exitCode}: {stderr}");
        Assert.Contains("needs both fraud and legitimate payments", stderr);
        Assert.DoesNotContain("Unhandled exception", stderr);
    }
}
