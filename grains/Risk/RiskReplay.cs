namespace Orleans.Trade.Risk;

/// <summary>
/// Builds training data the way the silo scores: attempts in time order, each one's features computed from the histories
/// as they were before it, then recorded into them. The histories are fresh per replay (what the grains would hold).
/// </summary>
public sealed class RiskReplay(CategoryRisk categoryRisk)
{
    private readonly Dictionary<string, EntityHistory> _buyers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EntityHistory> _cards = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EntityHistory> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EntityHistory> _ips = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EntityHistory> _addresses = new(StringComparer.Ordinal);
    private DateTimeOffset _last = DateTimeOffset.MinValue;

    /// <summary>The histories an attempt reads (created empty for entities not seen yet).</summary>
    public RiskHistories HistoriesOf(RiskEvent attempt) => new(
        Of(_buyers, attempt.BuyerId),
        Of(_cards, attempt.CardFingerprint),
        Of(_devices, attempt.DeviceFingerprint),
        Of(_ips, attempt.IpAddress),
        Of(_addresses, attempt.ShippingAddressKey));

    /// <summary>The attempt's features, then records it. Attempts must come in time order.</summary>
    public float[] Next(RiskEvent attempt)
    {
        if (attempt.OccurredAt < _last)
        {
            throw new InvalidOperationException($"Replay goes forward in time: {attempt.PaymentId} at {attempt.OccurredAt:O} comes after {_last:O}.");
        }
        _last = attempt.OccurredAt;
        var histories = HistoriesOf(attempt);
        var features = RiskFeatures.Compute(attempt, histories, categoryRisk);
        histories.Record(attempt);
        return features;
    }

    /// <summary>Sorts by time (stable: equal times keep file order) and replays every attempt.</summary>
    public static List<(LabelledRiskEvent Row, float[] Features)> Features(IEnumerable<LabelledRiskEvent> rows, CategoryRisk categoryRisk)
    {
        var replay = new RiskReplay(categoryRisk);
        return rows.OrderBy(r => r.Event.OccurredAt).Select(r => (r, replay.Next(r.Event))).ToList();
    }

    private static EntityHistory Of(Dictionary<string, EntityHistory> histories, string key)
    {
        if (!histories.TryGetValue(key, out var history))
        {
            history = new EntityHistory();
            histories[key] = history;
        }
        return history;
    }
}
