using Microsoft.Extensions.Logging;
using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>
/// Compensations (R-DIS-4): a share of the order's value paid to the buyer by the seller, from its deposit first, for a late
/// shipment or fake tracking. Kept beside the refunds (a record of kind <see cref="OrderRefundKind.Compensation"/>), stored before
/// it is booked and booked again after a crash like them, and sent to the buyer's payment through the same provider refund; the
/// escrow is not touched, so the seller still has it at completion.
/// </summary>
public sealed partial class OrderGrain
{
    /// <summary>
    /// A compensation of <paramref name="percent"/> of the order's value (what was charged, in the order's currency, rounded down),
    /// not yet stored or booked, or why there cannot be one: it would give the buyer back more than was paid, counting the refunds
    /// and compensations before it, or less than a minor unit of the buyer's currency.
    /// </summary>
    private (OrderRefundRecord? Record, string? Refusal) NewCompensation(string key, int percent, OrderActor actor, string reason, DateTimeOffset now)
    {
        var charged = S.Totals!.Charged;
        var buyer = S.Totals.Buyer;
        var amount = CompensationRules.Amount(charged.AmountMinor, percent);
        var (paidBack, paidBackBuyer) = PaidBackSoFar();
        var remaining = charged.AmountMinor - paidBack;
        if (amount > remaining)
        {
            return (null, $"{percent}% of order {OrderId}'s value is {amount} {charged.Currency}, more than the {Math.Max(0, remaining)} {charged.Currency} the buyer "
                + "has not had back yet: refunds and compensations together never pass what the buyer paid.");
        }
        var buyerAmount = amount == remaining
            ? buyer.AmountMinor - paidBackBuyer
            : (long)Math.Floor(amount * (decimal)buyer.AmountMinor / charged.AmountMinor);
        if (amount <= 0 || buyerAmount <= 0)
        {
            return (null, $"{percent}% of order {OrderId}'s value is less than the smallest amount the buyer paid in ({buyer.Currency}).");
        }
        return (new OrderRefundRecord
        {
            Key = key,
            RequestHash = "",
            View = new OrderRefundView(Ulid.NewUlid(now).ToString(), new Money(amount, charged.Currency), new Money(buyerAmount, buyer.Currency),
                Payments.RefundStatus.Pending, reason, actor.ToString(), now, OrderRefundKind.Compensation, percent),
        }, null);
    }

    /// <summary>
    /// R-ORD-1: a late order (not shipped by its ship-by time) that ships now compensates its buyer with
    /// <see cref="OrderOptions.LateShipmentCompensationPercent"/> of its value, when it was paid through the platform's provider
    /// (the compensation goes back to that payment). Stored with the shipment, booked after it; null when none is due.
    /// </summary>
    private OrderRefundRecord? CompensateLateShipment(DateTimeOffset now)
    {
        var percent = _options.LateShipmentCompensationPercent;
        if (!S.Late || percent == 0 || S.PaidBy is null || S.EscrowState != EscrowStep.Hold)
        {
            return null;
        }
        var (compensation, refusal) = NewCompensation("late-shipment", percent, OrderActor.System,
            $"shipped after its ship-by time {S.Deadlines.ShipBy:u}", now);
        if (compensation is null)
        {
            Record(now, "CompensationRefused", OrderActor.System, refusal, notify: false);
            return null;
        }
        S.Refunds.Add(compensation);
        return compensation;
    }

    /// <summary>
    /// Books the late shipment's compensation once the shipment is stored: the seller's answer is the shipment, so a ledger that
    /// cannot be reached now leaves the booking to the order's deadline work (an unbooked compensation wakes it soon).
    /// </summary>
    private async Task BookAfterShipping(OrderRefundRecord compensation)
    {
        try
        {
            await Book(compensation);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "The late-shipment compensation of order {OrderId} was not booked yet; the order's deadline work books it", OrderId);
        }
    }

    private Wallets.LedgerCompensation LedgerCompensation(OrderRefundRecord record) => new(OrderId, record.View.RefundId, record.View.Amount);

    /// <summary>
    /// Whether the seller's deposit and available balance cover <paramref name="record"/> now; null when they do, else why not.
    /// Asked before a verdict is stored, so that one the seller cannot pay changes nothing (the booking may still be refused if
    /// the balances change meanwhile, and is then undone).
    /// </summary>
    private async Task<string?> CompensationUnfunded(OrderRefundRecord record)
    {
        if (S.PendingEscrow.Contains(EscrowStep.Hold))
        {
            await DrainStockWork(); // the ledger knows the order by its escrow
        }
        var quote = await GrainFactory.GetGrain<Wallets.ISellerLedgerGrain>(S.Placement!.SellerId).QuoteCompensation(LedgerCompensation(record));
        return quote.Status is Wallets.LedgerCompensationStatus.Applied or Wallets.LedgerCompensationStatus.AlreadyApplied ? null : Unfunded(quote);
    }

    private string Unfunded(Wallets.LedgerCompensationResult result) => result.Status == Wallets.LedgerCompensationStatus.InsufficientFunds
        ? $"Seller '{S.Placement!.SellerId}' cannot pay this compensation: it costs {result.Charge!.AmountMinor} {result.Charge.Currency}, and the deposit holds "
            + $"{result.Deposit!.AmountMinor} and the available balance {result.Available!.AmountMinor} {result.Charge.Currency} (pending money and the order's "
            + $"escrow are not used). Fund the seller's deposit (POST /api/v1/sellers/{S.Placement.SellerId}/deposits) first."
        : $"The seller's ledger holds no money of order {OrderId}: a compensation is paid only on an order paid through the platform.";

    /// <summary>
    /// Books a stored compensation on the seller's ledger (a repeat books nothing: its transfer ids derive from its id). Refused
    /// (the seller's deposit and available balance do not cover it), it is dropped; a dispute whose verdict it carried out is open
    /// for arbitration again, with a ticket.
    /// </summary>
    private async Task<OrderRefundResult> BookCompensation(OrderRefundRecord record)
    {
        var result = await GrainFactory.GetGrain<Wallets.ISellerLedgerGrain>(S.Placement!.SellerId).Compensate(LedgerCompensation(record));
        var now = clock.GetUtcNow();
        var actor = new OrderActor(record.View.Actor, null);
        if (result.Status is Wallets.LedgerCompensationStatus.InsufficientFunds or Wallets.LedgerCompensationStatus.UnknownOrder)
        {
            var why = Unfunded(result);
            S.Refunds.Remove(record);
            if (S.Dispute is { Status: DisputeStatus.Resolved, Resolution: { } verdict } decided && verdict.RefundId == record.View.RefundId)
            {
                S.Dispute = decided with { Status = DisputeStatus.UnderArbitration, Resolution = null };
                Record(now, "DisputeSettlementFailed", actor, why);
                OpenTicket(now, ServiceTicketKinds.DisputeArbitration, $"The verdict on dispute {decided.DisputeId} of order {OrderId} could not be carried out: {why}");
            }
            else
            {
                Record(now, "CompensationRefused", actor, why, notify: false);
                OpenTicket(now, ServiceTicketKinds.CompensationUnfunded,
                    $"The buyer of order {OrderId} is owed a compensation of {record.View.Amount.AmountMinor} {record.View.Amount.Currency} ({record.View.Reason}) that seller "
                    + $"'{S.Placement!.SellerId}' could not pay: {why}");
            }
            await Persist();
            return new OrderRefundResult(result.Status == Wallets.LedgerCompensationStatus.InsufficientFunds ? OrderRefundStatus.InsufficientSellerFunds : OrderRefundStatus.NotRefundable,
                null, why, S.Status);
        }
        record.Booked = true;
        if (result.Funding is { } funding)
        {
            record.View = record.View with { FundedFrom = funding };
        }
        var paid = record.View.BuyerAmount;
        Record(now, "Compensated", actor, $"{paid.AmountMinor} {paid.Currency} ({record.View.CompensationPercent}% of the order's value) from the seller"
            + (record.View.FundedFrom is { } f ? $" ({f.FromDeposit.AmountMinor} {f.FromDeposit.Currency} from its deposit, {f.FromAvailable.AmountMinor} from its available balance)" : "")
            + $": {record.View.Reason}");
        await Persist();
        return new OrderRefundResult(OrderRefundStatus.Accepted, record.View, null, S.Status);
    }
}
