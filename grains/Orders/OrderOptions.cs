namespace Orleans.Trade.Orders;

/// <summary>Order deadlines and limits (configuration section <c>Orders</c>).</summary>
public sealed class OrderOptions
{
    /// <summary>Unpaid orders are cancelled and their stock released after this (R-ORD-1).</summary>
    public TimeSpan PaymentWindow { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// R-PAY-2: a checkout converted into the buyer's currency at a loaded rate older than this is refused (422) until the
    /// rate table is updated, rather than priced from a feed that stopped. Null or zero: no limit. Configured fixed rates
    /// (<c>Fx:UsdRates</c>, the built-in table) are not aged, and orders in the seller's own currency need no current rate.
    /// </summary>
    public TimeSpan? FxRateMaxAge { get; set; } = TimeSpan.FromDays(2);

    /// <summary>A seller's handling time when the SKU does not set one.</summary>
    public int DefaultHandlingDays { get; set; } = 5;

    /// <summary>Delivered orders complete automatically after this without a buyer action.</summary>
    public TimeSpan AutoCompleteAfter { get; set; } = TimeSpan.FromDays(15);

    /// <summary>A shipped order with no delivery event completes after this: the buyer protection window (R-ROLE-1).</summary>
    public TimeSpan ShippedAutoCompleteAfter { get; set; } = TimeSpan.FromDays(60);

    /// <summary>A shipment with no tracking update (or none since shipping) for this is stalled: a ticket goes to customer service (R-LOG-6).</summary>
    public TimeSpan StalledShipmentAfter { get; set; } = TimeSpan.FromDays(20);

    /// <summary>An order in risk review undecided after this opens a ticket (R-ORD-1, R-ORD-3).</summary>
    public TimeSpan ReviewDueAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// An order whose payment is held authorized for review is cancelled after this and the authorization voided: card networks
    /// let an uncaptured authorization lapse after about 7 days, and the buyer's money should not stay blocked until then.
    /// </summary>
    public TimeSpan ReviewHoldLimit { get; set; } = TimeSpan.FromDays(6);

    /// <summary>Customer service must act on a ticket within this (R-ORD-6).</summary>
    public TimeSpan ServiceTicketDue { get; set; } = TimeSpan.FromHours(48);

    /// <summary>The seller answers a dispute within this, or it goes to the platform's arbitration by itself (R-DIS-1).</summary>
    public TimeSpan DisputeResponseWindow { get; set; } = TimeSpan.FromHours(72);

    /// <summary>An escalated dispute is due a verdict within this many working days, Monday to Friday in UTC (R-DIS-2: 3-7).</summary>
    public int ArbitrationWorkingDays { get; set; } = 7;

    /// <summary>A delivered order's goods of eligible categories can be sent back for no reason within this of the delivery (R-DIS-4).</summary>
    public TimeSpan NoReasonReturnWindow { get; set; } = TimeSpan.FromDays(15);

    /// <summary>Categories whose goods cannot be sent back for no reason (R-DIS-4: not resaleable once delivered).</summary>
    public string[] NoReasonReturnExcludedCategories { get; set; } = ["gift_cards", "groceries"];

    /// <summary>The seller gives a return address within this, or the return is approved without the goods coming back (R-DIS-5).</summary>
    public TimeSpan ReturnAddressWindow { get; set; } = TimeSpan.FromHours(48);

    /// <summary>The buyer sends the goods back within this of getting the address, or the return lapses.</summary>
    public TimeSpan ReturnShipWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The seller confirms the returned goods within this of their dispatch, or the refund is paid all the same.</summary>
    public TimeSpan ReturnReceiptWindow { get; set; } = TimeSpan.FromDays(20);

    /// <summary>Evidence items a dispute takes from all parties together (R-DIS-2).</summary>
    public int MaxDisputeEvidence { get; set; } = 30;

    /// <summary>An order still being placed after this is an abandoned checkout: its reservations are released.</summary>
    public TimeSpan PlacementTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often an open order's deadline reminder ticks (Orleans' minimum is lowered to match when below a minute).</summary>
    public TimeSpan DeadlineCheckPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Orders worth more than this many US cents go to risk review after payment (R-ORD-3).</summary>
    public long RiskReviewAboveUsdMinor { get; set; } = 200_000;

    public int MaxLinesPerOrder { get; set; } = 50;

    /// <summary>IOSS VAT rates in percent by destination country (R-SET-2), laid over the standard table (e.g. a rate changed by law).</summary>
    public Dictionary<string, decimal> VatRates { get; set; } = new(StringComparer.Ordinal);

    private IReadOnlyDictionary<string, decimal>? _vatRatesInForce;

    /// <summary>The standard IOSS rates with <see cref="VatRates"/> laid over them; built once, read by every checkout.</summary>
    public IReadOnlyDictionary<string, decimal> VatRatesInForce() => _vatRatesInForce ??= VatRates.Count == 0
        ? Payments.IossVat.StandardRates
        : Payments.IossVat.StandardRates.Concat(VatRates).GroupBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);

    /// <summary>Channels each order event is announced on (R-ORD-5); the webhook receiver fans them out.</summary>
    public string[] NotificationChannels { get; set; } = ["email", "sms", "push"];

    /// <summary>Timeline entries kept per order (the oldest are summarised away beyond it).</summary>
    public int MaxTimelineEntries { get; set; } = 200;

    /// <summary>
    /// R-ORD-1, R-DIS-4: an order paid through the platform that ships after its ship-by time (marked late) compensates its buyer
    /// with this percentage of the order's value, paid by the seller from its deposit first, when it ships. 0: off; else 5 to 30.
    /// </summary>
    public int LateShipmentCompensationPercent { get; set; } = 5;

    /// <summary>What makes these options unusable, or null: checked at start-up, so a silo does not start with them.</summary>
    public string? Problem()
    {
        if (LateShipmentCompensationPercent != 0 && !CompensationRules.IsAllowedPercent(LateShipmentCompensationPercent))
        {
            return $"Orders:LateShipmentCompensationPercent is 0 (off) or {CompensationRules.MinPercent} to {CompensationRules.MaxPercent} (R-DIS-4); got {LateShipmentCompensationPercent}.";
        }
        // A slip here changes the VAT every EU checkout charges (R-SET-2): a fraction for a percent, a country outside the EU
        // (it would charge IOSS VAT there and book it), or a lower-case code (silently never matched).
        foreach (var (country, rate) in VatRates)
        {
            if (!Payments.IossVat.StandardRates.ContainsKey(country))
            {
                return $"Orders:VatRates:{country}: IOSS VAT rates are for EU member states, by upper-case ISO code ({string.Join(", ", Payments.IossVat.StandardRates.Keys.Order(StringComparer.Ordinal))}).";
            }
            if (rate is < MinVatPercent or > MaxVatPercent)
            {
                return $"Orders:VatRates:{country} is a rate in percent, {MinVatPercent} to {MaxVatPercent} (e.g. 19 for 19%); got {rate}.";
            }
        }
        return null;
    }

    public const decimal MinVatPercent = 1m;
    public const decimal MaxVatPercent = 50m;
}
