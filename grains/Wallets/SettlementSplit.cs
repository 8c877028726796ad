using Orleans.Trade.Common;

namespace Orleans.Trade.Wallets;

/// <summary>How an order's escrowed amount is divided when it is released (R-SET-1, R-SET-2).</summary>
public sealed record SettlementLegs(Money Commission, Money LogisticsFee, Money TaxPayable, Money SellerNet)
{
    public long TotalMinor => Commission.AmountMinor + LogisticsFee.AmountMinor + TaxPayable.AmountMinor + SellerNet.AmountMinor;
}

public static class SettlementSplit
{
    /// <summary>Commission rates are basis points (1/100 of a percent); 10,000 bps is the whole amount.</summary>
    public const int MaxRateBps = 10_000;

    /// <summary>A line's commission at its category's rate: rounded half away from zero, per line.</summary>
    public static long LineCommission(long lineValueMinor, int rateBps) =>
        (long)Math.Round(lineValueMinor * (decimal)rateBps / MaxRateBps, MidpointRounding.AwayFromZero);

    /// <summary>Commission on each line at its category's rate (<see cref="LineCommission"/>), then the same split as below.</summary>
    public static SettlementLegs Split(Money escrowed, IEnumerable<(long LineTotalMinor, int RateBps)> lines, Money logisticsFee, Money taxPayable)
    {
        var commission = lines.Sum(l => LineCommission(l.LineTotalMinor, l.RateBps));
        var net = escrowed.AmountMinor - commission - logisticsFee.AmountMinor - taxPayable.AmountMinor;
        if (net < 0)
        {
            throw new InvalidOperationException($"Fees and tax exceed the escrowed {escrowed.AmountMinor} {escrowed.Currency}.");
        }
        return new SettlementLegs(new Money(commission, escrowed.Currency), logisticsFee, taxPayable, new Money(net, escrowed.Currency));
    }

    /// <summary>
    /// Splits <paramref name="escrowed"/> into commission (on the goods value: escrowed less tax), logistics fee, tax and the
    /// seller's net. Commission rounds half away from zero; the seller's net takes whatever remains, so the legs always sum
    /// to the escrowed amount exactly. Fails rather than pay a seller a negative amount.
    /// </summary>
    public static SettlementLegs Split(Money escrowed, int commissionRateBps, Money logisticsFee, Money taxPayable)
    {
        var currency = escrowed.Currency;
        if (logisticsFee.Currency != currency || taxPayable.Currency != currency)
        {
            throw new ArgumentException("All legs must be in the escrowed currency.");
        }
        if (commissionRateBps is < 0 or > MaxRateBps)
        {
            throw new ArgumentOutOfRangeException(nameof(commissionRateBps), $"A commission rate is 0 to {MaxRateBps} basis points.");
        }
        if (escrowed.AmountMinor < 0 || logisticsFee.AmountMinor < 0 || taxPayable.AmountMinor < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(escrowed), "Amounts are never negative.");
        }
        var goods = escrowed.AmountMinor - taxPayable.AmountMinor;
        var commission = (long)Math.Round(goods * (decimal)commissionRateBps / MaxRateBps, MidpointRounding.AwayFromZero);
        var net = escrowed.AmountMinor - commission - logisticsFee.AmountMinor - taxPayable.AmountMinor;
        if (goods < 0 || net < 0)
        {
            throw new InvalidOperationException(
                $"Fees and tax ({commission} + {logisticsFee.AmountMinor} + {taxPayable.AmountMinor}) exceed the escrowed {escrowed.AmountMinor} {currency}.");
        }
        return new SettlementLegs(new Money(commission, currency), logisticsFee, taxPayable, new Money(net, currency));
    }
}
