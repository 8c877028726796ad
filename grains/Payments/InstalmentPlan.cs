using Orleans.Trade.Common;

namespace Orleans.Trade.Payments;

/// <summary>
/// An instalment schedule (R-PAY-3): <c>count</c> monthly parts of the amount, the first due at purchase. Every part is the
/// amount divided by the count, rounded down to the currency's minor unit, and the first part also carries the remainder, so
/// the parts always add up to the amount exactly.
/// </summary>
public static class InstalmentPlan
{
    public static IReadOnlyList<Instalment> Schedule(Money amount, int count, DateTimeOffset purchasedAt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount.AmountMinor);
        var part = amount.AmountMinor / count;
        var remainder = amount.AmountMinor - part * count;
        return Enumerable.Range(1, count)
            .Select(n => new Instalment(n, purchasedAt.AddMonths(n - 1), new Money(n == 1 ? part + remainder : part, amount.Currency)))
            .ToArray();
    }
}
