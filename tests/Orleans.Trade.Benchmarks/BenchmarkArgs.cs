using System.Globalization;

namespace Orleans.Trade.Benchmarks;

/// <summary><c>--name value</c> pairs after the scenario name; every value read is echoed into the report's settings.</summary>
public sealed class BenchmarkArgs
{
    private readonly Dictionary<string, string> _values;

    private BenchmarkArgs(Dictionary<string, string> values) => _values = values;

    public Dictionary<string, string> Used { get; } = new(StringComparer.Ordinal);

    public static BenchmarkArgs Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected --name value pairs, got '{args[i]}'.");
            }
            values[args[i][2..]] = args[i + 1];
        }
        return new BenchmarkArgs(values);
    }

    public int Int(string name, int fallback)
    {
        var value = _values.TryGetValue(name, out var text)
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) && parsed > 0
                ? parsed
                : throw new ArgumentException($"--{name} must be a positive whole number, not '{text}'.")
            : fallback;
        Used[name] = value.ToString(CultureInfo.InvariantCulture);
        return value;
    }

    public string? Text(string name, string? fallback)
    {
        var value = _values.GetValueOrDefault(name, fallback!);
        if (value is not null && name != "out")
        {
            Used[name] = value;
        }
        return value;
    }
}
