using Orleans.Trade.Common;

namespace Orleans.Trade.Wallets;

/// <summary>
/// R-SET-3: a refund goes back in proportion to what the buyer actually paid. When a coupon paid part of the order, a refund of
/// goods worth X returns X × paid ÷ (paid + coupon), rounded down so the platform never refunds more than was paid; across
/// all refunds the buyer never gets back more than the amount paid.
/// </summary>
public static class RefundCalculator
{
    public static Money Refundable(Money requestedGoodsValue, Money paid, Money couponDiscount, Money alreadyRefunded)
    {
        var currency = paid.Currency;
        if (requestedGoodsValue.Currency != currency || couponDiscount.Currency != currency || alreadyRefunded.Currency != currency)
        {
            throw new ArgumentException("A refund is computed in the currency the buyer paid in.");
        }
        if (requestedGoodsValue.AmountMinor < 0 || paid.AmountMinor < 0 || couponDiscount.AmountMinor < 0 || alreadyRefunded.AmountMinor < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(requestedGoodsValue), "Amounts are never negative.");
        }
        var gross = paid.AmountMinor + couponDiscount.AmountMinor;
        if (gross == 0)
        {
            return new Money(0, currency);
        }
        var goods = Math.Min(requestedGoodsValue.AmountMinor, gross);
        var proportional = (long)Math.Floor(goods * (decimal)paid.AmountMinor / gross);
        var remaining = Math.Max(0, paid.AmountMinor - alreadyRefunded.AmountMinor);
        return new Money(Math.Min(proportional, remaining), currency);
    }
}
