using Orleans.Trade.Risk;

namespace Orleans.Trade.Tests.Risk;

/// <summary>Hand-made attempts: one buyer, card, device, IP and address unless a test says otherwise.</summary>
internal static class RiskTestData
{
    public static readonly DateTimeOffset Noon = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    public static RiskEvent Attempt(
        DateTimeOffset at,
        long amountUsdMinor = 5_000,
        RiskOutcome outcome = RiskOutcome.Approved,
        string buyer = "b-1",
        string card = "c-1",
        string device = "d-1",
        string ip = "10.0.0.1",
        string address = "a-1",
        string binCountry = "DE",
        string ipCountry = "DE",
        string shipTo = "DE",
        string category = "books",
        DateTimeOffset? buyerCreatedAt = null) =>
        new($"p-{Guid.NewGuid():N}", at, buyer, buyerCreatedAt ?? at.AddDays(-100), card, binCountry, device, ip, ipCountry,
            address, shipTo, amountUsdMinor, category, outcome);

    /// <summary>The held-out split of the data the default model was trained on: <c>risk generate --payments 50000 --seed 1</c>.</summary>
    public static IReadOnlyList<LabelledRiskEvent> DefaultTrainingData { get; } = RiskGenerator.Generate(50_000, 1);

    public static string DefaultModelPath => RiskOptions.DefaultModelPath;

    public static string TempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", "risk-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }
}
