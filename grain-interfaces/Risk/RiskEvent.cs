namespace Orleans.Trade.Risk;

/// <summary>What the payment provider answered to an attempt.</summary>
public enum RiskOutcome
{
    Approved,
    Declined,
}

/// <summary>
/// One payment attempt's facts as the risk model sees them (R-PAY-5): who pays, with what card, from which device and IP,
/// shipping where, how much. The same record is replayed from CSV files to build training data and kept by grains as
/// payments happen, so a feature is computed by one code path in both places.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RiskEvent(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] DateTimeOffset OccurredAt,
    [property: Id(2)] string BuyerId,
    [property: Id(3)] DateTimeOffset BuyerCreatedAt,
    // The card fingerprint (same card, same value across tokens); never a card number.
    [property: Id(4)] string CardFingerprint,
    // ISO 3166-1 alpha-2 country of the card's issuer, from its BIN.
    [property: Id(5)] string CardBinCountry,
    [property: Id(6)] string DeviceFingerprint,
    [property: Id(7)] string IpAddress,
    [property: Id(8)] string IpCountry,
    // A stable key of the normalised shipping address (for example a hash), never the address itself.
    [property: Id(9)] string ShippingAddressKey,
    [property: Id(10)] string ShipToCountry,
    // The order value converted to US cents at the order's locked rate.
    [property: Id(11)] long AmountUsdMinor,
    [property: Id(12)] string SkuCategory,
    // The provider's answer. Not a feature of this attempt (scoring happens before it); it feeds later attempts' history.
    [property: Id(13)] RiskOutcome Outcome);
