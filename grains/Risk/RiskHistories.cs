namespace Orleans.Trade.Risk;

/// <summary>The five histories a payment's features read: its buyer, card, device, IP address and shipping address.</summary>
public sealed record RiskHistories(
    EntityHistory Buyer,
    EntityHistory Card,
    EntityHistory Device,
    EntityHistory Ip,
    EntityHistory Address)
{
    public static RiskHistories Empty() => new(new(), new(), new(), new(), new());

    /// <summary>What the attempt's features read from the five, as they are before it (the way the profile grains answer).</summary>
    public RiskFacts FactsFor(RiskEvent attempt) => new(
        Buyer.Facts(attempt, RiskFacts.CountDistinctCards[0]),
        Card.Facts(attempt, RiskFacts.CountDistinctCards[1]),
        Device.Facts(attempt, RiskFacts.CountDistinctCards[2]),
        Ip.Facts(attempt, RiskFacts.CountDistinctCards[3]),
        Address.Facts(attempt, RiskFacts.CountDistinctCards[4]));

    /// <summary>Records the attempt into all five (after it was scored).</summary>
    public void Record(RiskEvent attempt)
    {
        Buyer.Record(attempt);
        Card.Record(attempt);
        Device.Record(attempt);
        Ip.Record(attempt);
        Address.Record(attempt);
    }
}

/// <summary>What a payment's features read from its five histories (<see cref="EntityHistory.Facts"/> of each).</summary>
public sealed record RiskFacts(
    EntityFacts Buyer,
    EntityFacts Card,
    EntityFacts Device,
    EntityFacts Ip,
    EntityFacts Address)
{
    /// <summary>
    /// Whether each history's facts count distinct cards, in the order buyer, card, device, IP, address: only the device's and
    /// the IP's features use them, and counting costs a set per history that saw more than one card.
    /// </summary>
    public static ReadOnlySpan<bool> CountDistinctCards => [false, false, true, true, false];
}
