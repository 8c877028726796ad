using Orleans.Trade.Benchmarks;

// Usage: <scenario> [--name value ...]. Each scenario prints its results and, with --out FILE, writes them as markdown.
var scenarios = new Dictionary<string, Func<BenchmarkArgs, BenchmarkReport>>(StringComparer.Ordinal)
{
    ["risk-scoring"] = RiskScoringScenario.Run,
};

if (args.Length == 0 || !scenarios.TryGetValue(args[0], out var scenario))
{
    Console.Error.WriteLine($"Usage: Orleans.Trade.Benchmarks <scenario> [--out results.md] [scenario options]. Scenarios: {string.Join(", ", scenarios.Keys)}.");
    return 2;
}
try
{
    var options = BenchmarkArgs.Parse(args[1..]);
    var report = scenario(options);
    var markdown = report.ToMarkdown();
    Console.WriteLine(markdown);
    if (options.Text("out", null) is { } path)
    {
        File.WriteAllText(path, markdown);
        Console.WriteLine($"Wrote {path}");
    }
    return 0;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
