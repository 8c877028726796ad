using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>
/// Third-party inspections of disputed goods (R-DIS-6), kept in the dispute: an admin orders one from an agency for a fee while the
/// dispute is under arbitration (or must, before a refund verdict on high-value or fragile goods that are not as described or
/// damaged), submits its report, and the verdict waits for it. The party the report finds at fault pays the fee when the verdict is
/// carried out: the seller from its deposit first (booked on its ledger before the refund, so a seller who cannot pay changes
/// nothing), the buyer out of the refund the verdict gives; what the buyer's refund does not cover, and an inconclusive report's
/// fee, the platform bears.
/// </summary>
public sealed partial class OrderGrain
{
    private async Task<DisputeResult> OrderInspection(DisputeView d, DisputeCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return Refused(DisputeCommandStatus.Forbidden, "An inspection of disputed goods is ordered by an admin (R-DIS-6).");
        }
        if (d.Inspection is { } ordered)
        {
            // The same order again (a retry whose answer was lost) is answered with the dispute it changed.
            return ordered.Inspector == c.Inspector && ordered.Fee == c.Fee && ordered.Note == c.Note && ordered.OrderedBy == c.Actor.ToString()
                ? new DisputeResult(DisputeCommandStatus.Existing, d, null, S.Status)
                : Refused(DisputeCommandStatus.Conflict,
                    $"Inspection {ordered.InspectionId} of dispute {d.DisputeId} was ordered from {ordered.Inspector} at {ordered.OrderedAt:u}; a dispute has one inspection.");
        }
        if (d.Status != DisputeStatus.UnderArbitration)
        {
            return Refused(DisputeCommandStatus.Conflict, d.Status == DisputeStatus.AwaitingSeller
                ? $"Dispute {d.DisputeId} waits for the seller's answer until {d.RespondBy:u}; an inspection is ordered once it is under arbitration."
                : $"Dispute {d.DisputeId} is {d.Status}; it takes no inspection.");
        }
        var currency = S.Totals!.Charged.Currency;
        if (c.Fee is not { } fee || fee.AmountMinor is <= 0 or > 1_000_000_000_000 || fee.Currency != currency)
        {
            return Refused(DisputeCommandStatus.Invalid, $"An inspection's fee is a positive amount in the order's currency, {currency}; got {c.Fee?.AmountMinor} {c.Fee?.Currency}.");
        }
        var due = DisputeRules.ArbitrationDue(now, _disputeOptions.InspectionWorkingDays);
        var inspection = new DisputeInspection(Ulid.NewUlid(now).ToString(), c.Inspector!, fee, due, c.Actor.ToString(), now, c.Note ?? "");
        S.Dispute = d with { Inspection = inspection };
        Record(now, "InspectionOrdered", c.Actor,
            $"inspection {inspection.InspectionId} from {inspection.Inspector} for {fee.AmountMinor} {fee.Currency}, report due by {due:u}"
            + (inspection.Note.Length > 0 ? $": {inspection.Note}" : ""));
        await Persist();
        return new DisputeResult(DisputeCommandStatus.Applied, S.Dispute, null, S.Status);
    }

    private async Task<DisputeResult> ReportInspection(DisputeView d, DisputeCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return Refused(DisputeCommandStatus.Forbidden, "An inspection's report is submitted by an admin (R-DIS-6).");
        }
        if (d.Inspection is not { } inspection)
        {
            return Refused(DisputeCommandStatus.Conflict,
                $"Dispute {d.DisputeId} has no inspection to report on; order one first (POST /api/v1/orders/{OrderId}/dispute/inspection).");
        }
        var attachments = (c.Attachments ?? []).ToArray();
        if (inspection.Report is { } given)
        {
            return given.Finding == c.Finding && given.Summary == c.Note && given.Attachments.SequenceEqual(attachments) && given.By == c.Actor.ToString()
                ? new DisputeResult(DisputeCommandStatus.Existing, d, null, S.Status)
                : Refused(DisputeCommandStatus.Conflict, $"Inspection {inspection.InspectionId} was reported at {given.At:u} ({given.Finding}); a report is final.");
        }
        if (!d.IsOpen)
        {
            return Refused(DisputeCommandStatus.Conflict, $"Dispute {d.DisputeId} is {d.Status}; its inspection's report would decide nothing.");
        }
        if (inspection.Overdue)
        {
            S.TicketsToClose.Add(ServiceTicketKinds.InspectionOverdue);
        }
        var report = new InspectionReport(c.Finding!.Value, c.Note!, attachments, c.Actor.ToString(), now);
        S.Dispute = d with { Inspection = inspection with { Report = report } };
        Record(now, "InspectionReported", c.Actor, $"inspection {inspection.InspectionId} by {inspection.Inspector}: {report.Finding}: {report.Summary}");
        await Persist();
        return new DisputeResult(DisputeCommandStatus.Applied, S.Dispute, null, S.Status);
    }

    /// <summary>
    /// Why a verdict of <paramref name="outcome"/> on <paramref name="d"/> cannot be given yet for want of an inspection report, or
    /// null: an ordered inspection is always reported first; a refund against the seller on a notAsDescribed or damaged dispute of
    /// high-value or fragile goods needs one (<see cref="DisputeOptions"/>).
    /// </summary>
    private string? InspectionMissing(DisputeView d, DisputeOutcome? outcome)
    {
        if (d.Inspection is { Report: null } pending)
        {
            return $"Dispute {d.DisputeId} waits for inspection {pending.InspectionId} by {pending.Inspector}, due by {pending.DueAt:u}: the verdict is given "
                + $"once its report is in (POST /api/v1/orders/{OrderId}/dispute/inspection/report).";
        }
        if (d.Inspection is null && outcome is DisputeOutcome.FullRefund or DisputeOutcome.PartialRefund
            && d.Reason is DisputeReason.NotAsDescribed or DisputeReason.Damaged && InspectionRequiredFor() is { } why)
        {
            return $"A refund against the seller on a {Camel(d.Reason)} dispute of {why} needs a third-party inspection report first (R-DIS-6): "
                + $"order one (POST /api/v1/orders/{OrderId}/dispute/inspection), then submit its report.";
        }
        return null;
    }

    private static string Camel(DisputeReason reason) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(reason.ToString());

    /// <summary>What about the order's goods makes an inspection required before a refund verdict (fragile or high-value), or null.</summary>
    private string? InspectionRequiredFor()
    {
        var fragile = S.Lines.Select(l => l.Category)
            .FirstOrDefault(c => c is not null && _disputeOptions.FragileCategories.Contains(c, StringComparer.OrdinalIgnoreCase));
        if (fragile is not null)
        {
            return $"fragile goods (category {fragile})";
        }
        if (_disputeOptions.InspectionRequiredAboveUsdMinor is not { } above)
        {
            return null;
        }
        var goods = S.Totals!.Seller;
        if (!fxRates.TryGetRate(goods.Currency, "USD", out var rate, out _))
        {
            // Unknown value: counted as high, so no refund of valuable goods goes through unchecked for want of a rate.
            return $"goods whose value cannot be checked against {above / 100m:0.00} USD (no exchange rate from {goods.Currency} to USD)";
        }
        return CurrencyConversion.Convert(goods, "USD", rate).AmountMinor > above
            ? $"high-value goods ({goods.AmountMinor} {goods.Currency}, above {above / 100m:0.00} USD)"
            : null;
    }

    /// <summary>
    /// Who pays the fee of <paramref name="d"/>'s reported inspection when a verdict refunding <paramref name="refund"/> (none: nothing
    /// is refunded) is carried out; null without a reported inspection. The buyer's part is kept from the refund (its buyer amount is
    /// lowered here by that part's share), so it is never more than the refund.
    /// </summary>
    private InspectionFeeSettlement? InspectionFeeFor(DisputeView d, OrderRefundRecord? refund)
    {
        if (d.Inspection is not { Report: { } report } inspection)
        {
            return null;
        }
        var fee = inspection.Fee;
        var none = new Money(0, fee.Currency);
        var noneBuyer = new Money(0, S.Totals!.Buyer.Currency);
        switch (report.Finding)
        {
            case InspectionFinding.SellerAtFault:
                return new InspectionFeeSettlement(inspection.InspectionId, InspectionFeePayer.Seller, fee, fee, none, noneBuyer, none, Booked: false);
            case InspectionFinding.BuyerAtFault when refund is not null:
                var refunded = refund.View.Amount.AmountMinor;
                var kept = Math.Min(fee.AmountMinor, refunded);
                var charged = S.Totals.Charged.AmountMinor;
                var buyerAmount = refund.View.BuyerAmount.AmountMinor;
                var keptBuyer = kept == refunded ? buyerAmount : Math.Min(buyerAmount, (long)Math.Floor(kept * (decimal)S.Totals.Buyer.AmountMinor / charged));
                var left = buyerAmount - keptBuyer;
                // Nothing left to send back: the refund is paid in full by what the platform keeps, with no provider refund.
                refund.View = refund.View with
                {
                    BuyerAmount = refund.View.BuyerAmount with { AmountMinor = left },
                    Status = left == 0 ? Payments.RefundStatus.Succeeded : refund.View.Status,
                };
                return new InspectionFeeSettlement(inspection.InspectionId, InspectionFeePayer.Buyer, fee, none, new Money(kept, fee.Currency),
                    new Money(keptBuyer, noneBuyer.Currency), new Money(fee.AmountMinor - kept, fee.Currency), Booked: false);
            default:
                // Inconclusive, or the buyer at fault with no refund to take it from: nothing more can be taken from the buyer.
                return new InspectionFeeSettlement(inspection.InspectionId, InspectionFeePayer.Platform, fee, none, none, noneBuyer, fee, Booked: true);
        }
    }

    private Wallets.LedgerFee? LedgerFeeOf(InspectionFeeSettlement fee) =>
        fee.FromSeller.AmountMinor > 0 ? new(OrderId, fee.InspectionId, fee.FromSeller, Wallets.LedgerFeePayer.Seller)
        : fee.FromBuyerRefund.AmountMinor > 0 ? new(OrderId, fee.InspectionId, fee.FromBuyerRefund, Wallets.LedgerFeePayer.BuyerRefund)
        : null;

    /// <summary>
    /// Whether the seller's deposit and available balance cover the fee of <paramref name="d"/>'s reported inspection when the report
    /// finds the seller at fault: null when they do (or the seller does not pay it), else why not. Asked before a verdict is stored.
    /// A verdict's <paramref name="compensation"/> comes out of the same money, so the two are quoted together (each alone could
    /// pass, and the verdict then book the fee and fail on the compensation); a fee booked already is quoted as nothing more.
    /// </summary>
    private async Task<string?> InspectionFeeUnfunded(DisputeView d, OrderRefundRecord? compensation = null)
    {
        if (d.Inspection is not { Report.Finding: InspectionFinding.SellerAtFault } inspection)
        {
            return null;
        }
        if (S.PendingEscrow.Contains(EscrowStep.Hold))
        {
            await DrainStockWork(); // the ledger knows the order by its escrow
        }
        var withCompensation = compensation?.View.Amount is { } paid && paid.Currency == inspection.Fee.Currency ? paid : null;
        var charge = withCompensation is null ? inspection.Fee : inspection.Fee with { AmountMinor = checked(inspection.Fee.AmountMinor + withCompensation.AmountMinor) };
        var quote = await GrainFactory.GetGrain<Wallets.ISellerLedgerGrain>(S.Placement!.SellerId)
            .QuoteFee(new Wallets.LedgerFee(OrderId, inspection.InspectionId, charge, Wallets.LedgerFeePayer.Seller));
        return quote.Status is Wallets.LedgerCompensationStatus.Applied or Wallets.LedgerCompensationStatus.AlreadyApplied ? null
            : withCompensation is null ? FeeUnfunded(quote)
            : $"Together with this compensation ({withCompensation.AmountMinor} {withCompensation.Currency}), which the same money pays, the seller must cover both: {FeeUnfunded(quote)}";
    }

    private string FeeUnfunded(Wallets.LedgerCompensationResult result) => result.Status == Wallets.LedgerCompensationStatus.InsufficientFunds
        ? $"Seller '{S.Placement!.SellerId}' cannot pay the inspection's fee it is at fault for (R-DIS-6): it costs {result.Charge!.AmountMinor} {result.Charge.Currency}, "
            + $"and the deposit holds {result.Deposit!.AmountMinor} and the available balance {result.Available!.AmountMinor} {result.Charge.Currency} (pending money "
            + $"and the order's escrow are not used). Fund the seller's deposit (POST /api/v1/sellers/{S.Placement.SellerId}/deposits) first."
        : $"The seller's ledger holds no money of order {OrderId}: an inspection's fee is charged only on an order paid through the platform.";

    /// <summary>
    /// Books the fee of the decided dispute's inspection on the seller's ledger (a repeat books nothing: its transfer ids derive from
    /// the inspection's id), before the verdict's refund. Answers null when booked; refused (the seller's balances changed since the
    /// verdict's check), the verdict is undone, its refund not yet booked dropped, and the dispute is open for arbitration again
    /// with a ticket: answers why.
    /// </summary>
    private async Task<string?> BookInspectionFee()
    {
        var d = S.Dispute!;
        var resolution = d.Resolution!;
        var fee = resolution.InspectionFee!;
        if (LedgerFeeOf(fee) is not { } charge)
        {
            S.Dispute = d with { Resolution = resolution with { InspectionFee = fee with { Booked = true } } };
            await Persist();
            return null;
        }
        if (S.PendingEscrow.Contains(EscrowStep.Hold))
        {
            await DrainStockWork();
            if (S.PendingEscrow.Contains(EscrowStep.Hold))
            {
                throw new TransientStorageException($"The escrow of order {OrderId} is not on the seller's ledger yet; the inspection's fee is booked when it is, or retry.");
            }
        }
        var result = await GrainFactory.GetGrain<Wallets.ISellerLedgerGrain>(S.Placement!.SellerId).ChargeFee(charge);
        var now = clock.GetUtcNow();
        var actor = new OrderActor(resolution.By, null);
        if (result.Status is Wallets.LedgerCompensationStatus.InsufficientFunds or Wallets.LedgerCompensationStatus.UnknownOrder)
        {
            var why = FeeUnfunded(result);
            if (S.Refunds.Find(r => r.View.RefundId == resolution.RefundId && !r.Booked) is { } unbooked)
            {
                S.Refunds.Remove(unbooked);
            }
            S.Dispute = d with { Status = DisputeStatus.UnderArbitration, Resolution = null };
            Record(now, "DisputeSettlementFailed", actor, why);
            OpenTicket(now, ServiceTicketKinds.DisputeArbitration, $"The verdict on dispute {d.DisputeId} of order {OrderId} could not be carried out: {why}");
            await Persist();
            return why;
        }
        S.Dispute = d with { Resolution = resolution with { InspectionFee = fee with { Booked = true, Funding = result.Funding ?? fee.Funding } } };
        Record(now, "InspectionFeeCharged", actor, charge.Payer == Wallets.LedgerFeePayer.Seller
            ? $"{fee.FromSeller.AmountMinor} {fee.FromSeller.Currency} for inspection {fee.InspectionId} charged to the seller"
                + (result.Funding is { } f ? $" ({f.FromDeposit.AmountMinor} {f.FromDeposit.Currency} from its deposit, {f.FromAvailable.AmountMinor} from its available balance)" : "")
            : $"{fee.FromBuyerRefund.AmountMinor} {fee.FromBuyerRefund.Currency} for inspection {fee.InspectionId} kept from the buyer's refund"
                + (fee.BorneByPlatform.AmountMinor > 0 ? $"; the platform bears the other {fee.BorneByPlatform.AmountMinor} {fee.BorneByPlatform.Currency}" : ""));
        await Persist();
        return null;
    }

    /// <summary>An inspection not reported by its due time opens a ticket, once (R-ORD-6); the dispute keeps waiting for the report.</summary>
    private async Task ReportInspectionOverdue(DisputeView d, DisputeInspection late, DateTimeOffset now)
    {
        S.Dispute = d with { Inspection = late with { Overdue = true } };
        Record(now, "InspectionOverdue", OrderActor.System, $"inspection {late.InspectionId} by {late.Inspector} was due by {late.DueAt:u}");
        OpenTicket(now, ServiceTicketKinds.InspectionOverdue,
            $"Inspection {late.InspectionId} of dispute {d.DisputeId} of order {OrderId} by {late.Inspector} was due by {late.DueAt:u} and is not reported: "
            + $"chase the inspector and submit its report (POST /api/v1/orders/{OrderId}/dispute/inspection/report); the verdict waits for it.");
        await Persist();
    }
}
