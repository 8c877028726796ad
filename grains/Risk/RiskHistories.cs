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
