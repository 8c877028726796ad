namespace Orleans.Trade.Payments;

/// <summary>Payment rules (configuration section <c>Payments</c>).</summary>
public sealed class PaymentOptions
{
    /// <summary>Instalments (R-PAY-3) are offered for orders worth at least this many US cents.</summary>
    public long InstalmentsMinUsdMinor { get; set; } = 10_000;

    /// <summary>The instalment counts offered.</summary>
    public int[] InstalmentCounts { get; set; } = [3, 6, 12];

    /// <summary>How long a bank-transfer reference stays valid; the order's payment deadline moves to match.</summary>
    public TimeSpan BankTransferPayBy { get; set; } = TimeSpan.FromHours(72);

    /// <summary>How often a payment with an unknown outcome (provider time-out, undelivered notice) asks again.</summary>
    public TimeSpan ReconcilePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When a payment whose steps a crash may have cut off (stored with steps left and no reminder) is woken by the deadline
    /// index. Longer than a payment's steps take under load, so a live payment is not woken needlessly.
    /// </summary>
    public TimeSpan ResumeStalledAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Payments a silo keeps in memory past their idle age while they ask a provider that has not answered (see
    /// <see cref="PaymentsAsking"/>); the others wait for their reminder.
    /// </summary>
    public int MaxKeptAsking { get; set; } = 10_000;

    /// <summary>
    /// Ask the provider to capture on authorization (one request, one webhook, one order write less per payment). The order
    /// still decides whether it takes the money; if it cannot (cancelled or paid by another payment in the moment between), the
    /// payment is refunded in full instead of voided. False: authorize, let the order lock the payment, then capture. A payment
    /// held for risk review is always authorized only.
    /// </summary>
    public bool CaptureWithAuthorization { get; set; } = true;

    /// <summary>
    /// After the order's payment deadline, a payment still waiting on the buyer (3-D Secure, a bank transfer) asks the provider
    /// again after each of these, counted from the ask before: a buyer who completes late and whose webhook is lost gets the
    /// money back (the cancelled order refuses it) instead of leaving it with the platform. Empty: asked once, at the deadline.
    /// </summary>
    public TimeSpan[] LateLookups { get; set; } = [TimeSpan.FromHours(1), TimeSpan.FromHours(6), TimeSpan.FromDays(1), TimeSpan.FromDays(3), TimeSpan.FromDays(7)];

    /// <summary>Payment attempts one order accepts (declined cards, abandoned 3-D Secure challenges, ...).</summary>
    public int MaxAttemptsPerOrder { get; set; } = 10;
}
