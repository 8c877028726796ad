namespace Orleans.Trade.Payments;

/// <summary>
/// The payments this silo keeps in memory past their idle age because they are still asking a provider that has not answered
/// (each asks every <see cref="PaymentOptions.ReconcilePeriod"/>). At most <see cref="PaymentOptions.MaxKeptAsking"/> at once:
/// in a long provider outage during a sale, payments beyond that leave memory at their idle age and are woken by their
/// one-minute reminder instead, so neither the silo's memory nor the rate of requests to the provider grows with the outage.
/// </summary>
public sealed class PaymentsAsking
{
    private int _kept;

    /// <summary>Payments kept asking right now.</summary>
    public int Kept => Volatile.Read(ref _kept);

    /// <summary>Takes a place if fewer than <paramref name="max"/> are kept.</summary>
    public bool TryKeep(int max)
    {
        while (true)
        {
            var kept = Volatile.Read(ref _kept);
            if (kept >= max)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _kept, kept + 1, kept) == kept)
            {
                return true;
            }
        }
    }

    /// <summary>Gives back a place taken by <see cref="TryKeep"/>.</summary>
    public void Release() => Interlocked.Decrement(ref _kept);
}
