namespace Orleans.Trade.Common;

/// <summary>An amount in the currency's minor units (cents for USD, yen for JPY) plus its ISO 4217 code.</summary>
[GenerateSerializer, Immutable]
public sealed record Money(
    [property: Id(0)] long AmountMinor,
    [property: Id(1)] string Currency);
