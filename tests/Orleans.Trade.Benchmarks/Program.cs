using Orleans.Trade.Benchmarks;
using Orleans.Trade.Benchmarks.Scenarios;

// Usage: <scenario> [--name value ...]. Each scenario prints its results and, with --out FILE, writes them as markdown.
var scenarios = new Dictionary<string, Func<BenchmarkArgs, Task<string>>>(StringComparer.Ordinal)
{
    ["risk-scoring"] = a => Task.FromResult(RiskScoringScenario.Run(a).ToMarkdown()),
};
foreach (var name in LoadSuite.Names)
{
    scenarios[name] = a => LoadSuite.RunAsync(name, a);
}

if (args.Length == 0 || !scenarios.TryGetValue(args[0], out var scenario))
{
    Console.Error.WriteLine($"Usage: Orleans.Trade.Benchmarks <scenario> [--out results.md] [scenario options]. Scenarios: {string.Join(", ", scenarios.Keys)}.");
    return 2;
}
try
{
    var options = BenchmarkArgs.Parse(args[1..]);
    var markdown = await scenario(options);
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
catch (Orleans.Trade.Benchmarks.Harness.BenchmarkBusyException e)
{
    Console.Error.WriteLine(e.Message);
    return 3;
}
