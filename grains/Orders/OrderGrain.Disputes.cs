using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>
/// The buyer's dispute of an order (R-DIS-1..3), kept in the order's own state: its verdict and the refund that carries it out are
/// stored in one write, and while it is open the order's protection deadlines wait, so the escrow it may be paid from stays held.
/// </summary>
public sealed partial class OrderGrain
{
    private bool Disputed => S.Dispute is { IsOpen: true };

    public async Task<DisputeResult> Dispute(DisputeCommand command)
    {
        if (S.Phase != OrderPhase.Live || !OrderPermissions.MayRead(command.Actor, S.Placement!.Owner, S.Placement.SellerId))
        {
            return new DisputeResult(DisputeCommandStatus.NotFound, null, $"Order {OrderId} does not exist.");
        }
        await CatchUpDeadlines();
        var now = clock.GetUtcNow();
        var actor = command.Actor;
        var placement = S.Placement!;
        var buyer = actor.Role == "buyer" && actor.Subject == placement.Owner;
        var seller = actor.Role is "seller" or "erp" && actor.Subject == placement.SellerId;
        var admin = actor.Role == "admin";
        var arbitrator = admin || actor.Role == "analyst";
        if (command.Step != DisputeStep.Open && S.Dispute is null)
        {
            return new DisputeResult(DisputeCommandStatus.NotFound, null, $"Order {OrderId} has no dispute.", S.Status);
        }
        return command.Step switch
        {
            DisputeStep.Open => await OpenDispute(command, buyer || admin, now),
            DisputeStep.AddEvidence => await AddEvidence(S.Dispute!, command, buyer || seller || arbitrator, now),
            DisputeStep.Respond => await RespondToDispute(S.Dispute!, command, actor.Role == "seller" && actor.Subject == placement.SellerId, now),
            DisputeStep.Withdraw => await WithdrawDispute(S.Dispute!, command, buyer || admin, now),
            DisputeStep.OrderInspection => await OrderInspection(S.Dispute!, command, admin, now),
            DisputeStep.ReportInspection => await ReportInspection(S.Dispute!, command, admin, now),
            _ => await DecideDispute(S.Dispute!, command, arbitrator, now),
        };
    }

    private async Task<DisputeResult> OpenDispute(DisputeCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return Refused(DisputeCommandStatus.Forbidden, $"{c.Actor} may not dispute order {OrderId}: its buyer opens a dispute.");
        }
        var charged = S.Totals!.Charged;
        if (S.Dispute is { } existing)
        {
            // The same request again (a retry whose answer was lost) is answered with the dispute it opened, also once the seller
            // has settled it meanwhile; after a withdrawal it is a new dispute, refused.
            return existing.Status != DisputeStatus.Withdrawn && existing.OpenedBy == c.Actor.ToString() && existing.Reason == c.Reason && existing.Description == c.Note
                && (c.Amount is null || c.Amount == existing.Requested)
                ? new DisputeResult(DisputeCommandStatus.Existing, existing, null, S.Status)
                : Refused(DisputeCommandStatus.Conflict,
                    $"Order {OrderId} was disputed already (dispute {existing.DisputeId}, {existing.Status}); an order is disputed once.");
        }
        if (S.Status is not (OrderStatus.Shipped or OrderStatus.Delivered))
        {
            return Refused(DisputeCommandStatus.Conflict, S.Status switch
            {
                OrderStatus.Completed => $"Order {OrderId} is completed: its buyer protection window has ended, and its money went to the seller.",
                OrderStatus.Cancelled or OrderStatus.Closed => $"Order {OrderId} is {S.Status}: there is nothing left to dispute.",
                _ => $"Order {OrderId} is {S.Status} and has not shipped: cancel it instead of disputing it.",
            });
        }
        if (S.Return is { IsOpen: true } or { Status: ReturnStatus.Rejected } && S.Return is { } returned)
        {
            return Refused(DisputeCommandStatus.Conflict, returned.IsOpen
                ? $"Order {OrderId}'s goods are being returned (return {returned.ReturnId}, {returned.Status}): a problem with them is settled through the return, which goes to arbitration when the seller reports one."
                : $"Return {returned.ReturnId} of order {OrderId} was rejected by an arbitrator at {returned.Ending?.At:u}; that verdict is final (R-DIS-3).");
        }
        if (S.Return is { Status: ReturnStatus.Refunded, RefundId: { } returnRefund } partly
            && S.Refunds.Find(f => f.View.RefundId == returnRefund) is { Withheld: > 0 })
        {
            // A dispute would ask again for what the arbitrator kept with the seller.
            return Refused(DisputeCommandStatus.Conflict,
                $"Return {partly.ReturnId} of order {OrderId} was partly refunded by an arbitrator at {partly.Ending?.At:u}; that verdict is final (R-DIS-3).");
        }
        if (S.PaidBy is null)
        {
            return Refused(DisputeCommandStatus.Invalid,
                $"Order {OrderId} was not paid through the platform's payment provider, so the platform holds none of its money and a verdict could not refund it: settle it where it was paid.");
        }
        var remaining = charged.AmountMinor - PaidBackSoFar().Seller;
        var requested = remaining;
        if (c.Amount is { } asked)
        {
            if (asked.Currency != charged.Currency || asked.AmountMinor <= 0)
            {
                return Refused(DisputeCommandStatus.Invalid, $"The amount asked for is a positive amount in the order's currency, {charged.Currency}.");
            }
            if (asked.AmountMinor > remaining)
            {
                return Refused(DisputeCommandStatus.Invalid, $"At most {remaining} {charged.Currency} of order {OrderId} can still be refunded; ask for that or less.");
            }
            requested = asked.AmountMinor;
        }
        var attachments = c.Attachments ?? [];
        var dispute = new DisputeView(Ulid.NewUlid(now).ToString(), DisputeStatus.AwaitingSeller, c.Reason!.Value, c.Note!,
            new Money(requested, charged.Currency), c.Actor.ToString(), now, now + _options.DisputeResponseWindow, null, null, null,
            attachments.Count == 0 ? [] : [new DisputeEvidence(c.Actor.ToString(), now, "sent with the dispute", attachments.ToArray())], null);
        S.Dispute = dispute;
        Record(now, "DisputeOpened", c.Actor, $"{dispute.Reason}: {requested} {charged.Currency} asked back; the seller answers by {dispute.RespondBy:u}");
        OpenTicket(now, ServiceTicketKinds.DisputeAwaitingSeller,
            $"The buyer disputes order {OrderId} ({dispute.Reason}) and asks {requested} {charged.Currency} back: answer dispute {dispute.DisputeId} by {dispute.RespondBy:u}, or it goes to the platform's arbitration.",
            dispute.RespondBy);
        await Persist();
        return new DisputeResult(DisputeCommandStatus.Applied, S.Dispute, null, S.Status);
    }

    private async Task<DisputeResult> AddEvidence(DisputeView d, DisputeCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return Refused(DisputeCommandStatus.Forbidden, "Evidence comes from the order's buyer, its seller or an arbitrator.");
        }
        var party = c.Actor.ToString();
        var attachments = (c.Attachments ?? []).ToArray();
        if (d.Evidence.Count > 0 && d.Evidence[^1] is var last && last.Party == party && last.Note == c.Note && last.Attachments.SequenceEqual(attachments))
        {
            return new DisputeResult(DisputeCommandStatus.Existing, d, null, S.Status); // the same item again: a retry
        }
        if (!d.IsOpen)
        {
            return Refused(DisputeCommandStatus.Conflict, $"Dispute {d.DisputeId} is {d.Status}; it takes no more evidence.");
        }
        if (d.Evidence.Count >= _options.MaxDisputeEvidence)
        {
            return Refused(DisputeCommandStatus.Invalid,
                $"Dispute {d.DisputeId} holds {_options.MaxDisputeEvidence} evidence items, as many as it takes; put further links in one item's attachments.");
        }
        S.Dispute = d with { Evidence = [.. d.Evidence, new DisputeEvidence(party, now, c.Note!, attachments)] };
        Record(now, "DisputeEvidenceAdded", c.Actor, null, notify: false);
        await Persist();
        return new DisputeResult(DisputeCommandStatus.Applied, S.Dispute, null, S.Status);
    }

    private async Task<DisputeResult> RespondToDispute(DisputeView d, DisputeCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return Refused(DisputeCommandStatus.Forbidden, "Only the order's seller answers its dispute.");
        }
        if (d.Status != DisputeStatus.AwaitingSeller)
        {
            return d.SellerResponse is { } given && given.Accepted == c.Accept && given.Note == c.Note
                ? new DisputeResult(DisputeCommandStatus.Existing, d, null, S.Status)
                : Refused(DisputeCommandStatus.Conflict, d.Status == DisputeStatus.UnderArbitration
                    ? $"Dispute {d.DisputeId} went to arbitration at {d.EscalatedAt:u}; the seller's answer was due by {d.RespondBy:u}. Add evidence for the arbitrator instead."
                    : $"Dispute {d.DisputeId} is {d.Status}; there is nothing left to answer.");
        }
        var response = new DisputeSellerResponse(c.Accept == true, c.Note!, c.Actor.ToString(), now);
        if (c.Accept == true)
        {
            var remaining = S.Totals!.Charged.AmountMinor - PaidBackSoFar().Seller;
            var amount = Math.Min(d.Requested.AmountMinor, remaining);
            return await SettleDispute(d with { SellerResponse = response }, amount >= remaining ? DisputeOutcome.FullRefund : DisputeOutcome.PartialRefund,
                amount, c.Actor, c.Note!, now);
        }
        Escalate(d, now, c.Actor, $"the seller contests it: {c.Note}", response);
        await Persist();
        return new DisputeResult(DisputeCommandStatus.Applied, S.Dispute, null, S.Status);
    }

    private async Task<DisputeResult> WithdrawDispute(DisputeView d, DisputeCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return Refused(DisputeCommandStatus.Forbidden, "Only the order's buyer withdraws its dispute.");
        }
        if (!d.IsOpen)
        {
            return d.Status == DisputeStatus.Withdrawn
                ? new DisputeResult(DisputeCommandStatus.Existing, d, null, S.Status)
                : Refused(DisputeCommandStatus.Conflict, $"Dispute {d.DisputeId} is {d.Status}; it can no longer be withdrawn.");
        }
        var note = c.Note ?? "withdrawn by the buyer";
        EndDispute(d, new DisputeResolution(null, null, null, note, c.Actor.ToString(), now));
        // The order goes on where it was: its protection deadlines count again (one that passed meanwhile is carried out now).
        Record(now, "DisputeWithdrawn", c.Actor, note);
        await Persist();
        return new DisputeResult(DisputeCommandStatus.Applied, S.Dispute, null, S.Status);
    }

    private async Task<DisputeResult> DecideDispute(DisputeView d, DisputeCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return Refused(DisputeCommandStatus.Forbidden, "A dispute's verdict is given by an arbitrator (an admin or an analyst).");
        }
        if (d.Status == DisputeStatus.AwaitingSeller)
        {
            return Refused(DisputeCommandStatus.Conflict,
                $"Dispute {d.DisputeId} waits for the seller's answer until {d.RespondBy:u} (R-DIS-1); it goes to arbitration then, or as soon as the seller contests it.");
        }
        if (!d.IsOpen)
        {
            return d.Resolution is { } done && done.Outcome == c.Outcome && done.Note == c.Note && done.By == c.Actor.ToString()
                && done.CompensationPercent == c.CompensationPercent
                && (c.Outcome != DisputeOutcome.PartialRefund || done.Refund == c.Amount) // another amount is another verdict
                ? new DisputeResult(DisputeCommandStatus.Existing, d, null, S.Status)
                : Refused(DisputeCommandStatus.Conflict, $"Dispute {d.DisputeId} is {d.Status} already; a verdict is final (R-DIS-3).");
        }
        var charged = S.Totals!.Charged;
        var remaining = charged.AmountMinor - PaidBackSoFar().Seller;
        long amount = 0;
        if (c.CompensationPercent is not null && c.Outcome != DisputeOutcome.Compensate)
        {
            return Refused(DisputeCommandStatus.Invalid, $"compensationPercent goes only with the outcome compensate, not {c.Outcome}.");
        }
        if (InspectionMissing(d, c.Outcome) is { } missing)
        {
            return Refused(DisputeCommandStatus.Conflict, missing);
        }
        switch (c.Outcome)
        {
            case DisputeOutcome.Compensate:
                if (d.Reason != DisputeReason.LateOrFakeTracking)
                {
                    return Refused(DisputeCommandStatus.Invalid,
                        $"The outcome compensate is for a dispute of a late shipment or fake tracking (R-DIS-4); dispute {d.DisputeId} is about {d.Reason}: decide a refund or a close.");
                }
                if (c.CompensationPercent is not { } percent || !CompensationRules.IsAllowedPercent(percent))
                {
                    return Refused(DisputeCommandStatus.Invalid,
                        $"compensationPercent is a whole number from {CompensationRules.MinPercent} to {CompensationRules.MaxPercent} (R-DIS-4).");
                }
                var (compensation, refusal) = NewCompensation($"dispute:{d.DisputeId}", percent, c.Actor, $"dispute {d.DisputeId}: {c.Note}", now);
                if (compensation is null)
                {
                    return Refused(DisputeCommandStatus.Invalid, $"{refusal} Decide a smaller compensationPercent, or close the dispute.");
                }
                if (await CompensationUnfunded(compensation) is { } unfunded)
                {
                    return Refused(DisputeCommandStatus.Conflict, $"{unfunded} Or decide a smaller compensationPercent.");
                }
                return await SettleDispute(d, DisputeOutcome.Compensate, 0, c.Actor, c.Note!, now, compensation);
            case DisputeOutcome.FullRefund:
                amount = remaining;
                break;
            case DisputeOutcome.PartialRefund:
                if (c.Amount is not { } part || part.Currency != charged.Currency || part.AmountMinor <= 0)
                {
                    return Refused(DisputeCommandStatus.Invalid, $"A partial refund names its amount: a positive amount in the order's currency, {charged.Currency}.");
                }
                if (part.AmountMinor >= remaining)
                {
                    return Refused(DisputeCommandStatus.Invalid,
                        $"A partial refund is less than the {remaining} {charged.Currency} still refundable; to give all of it back, decide fullRefund.");
                }
                amount = part.AmountMinor;
                break;
        }
        return await SettleDispute(d, c.Outcome!.Value, amount, c.Actor, c.Note!, now);
    }

    /// <summary>
    /// Carries out a dispute's end (R-DIS-3): the decision and its refund's intent are stored together, the refund is booked out of
    /// the escrow the dispute kept held, and the order ends: closed when everything went back, completed otherwise. Each step is
    /// repeated after a crash (an unbooked refund and an undone completion are deadline work). A <paramref name="compensation"/>
    /// (R-DIS-4) is stored and booked the same way, but paid by the seller's deposit: the escrow goes to the seller at completion.
    /// </summary>
    private async Task<DisputeResult> SettleDispute(DisputeView d, DisputeOutcome outcome, long amount, OrderActor actor, string note, DateTimeOffset now,
        OrderRefundRecord? compensation = null)
    {
        var currency = S.Totals!.Charged.Currency;
        if (await InspectionFeeUnfunded(d, compensation) is { } unfunded)
        {
            return Refused(DisputeCommandStatus.Conflict, $"{unfunded} The verdict changed nothing.");
        }
        var refund = compensation;
        if (compensation is not null)
        {
            S.Refunds.Add(compensation);
        }
        else if (amount > 0)
        {
            refund = NewRefund($"dispute:{d.DisputeId}", "", amount, actor, $"dispute {d.DisputeId}: {note}", now);
            if (refund is null)
            {
                return Refused(DisputeCommandStatus.Invalid,
                    $"{amount} {currency} is less than the smallest amount the buyer paid in ({S.Totals.Buyer.Currency}); refund more, or close the dispute.");
            }
            S.Refunds.Add(refund);
        }
        var inspectionFee = InspectionFeeFor(d, compensation is null ? refund : null);
        EndDispute(d, new DisputeResolution(outcome, compensation is null ? refund?.View.Amount : null, refund?.View.RefundId, note, actor.ToString(), now,
            compensation?.View.CompensationPercent, compensation?.View.Amount, inspectionFee));
        Record(now, "DisputeSettled", actor, compensation is not null
            ? $"{outcome}, {compensation.View.CompensationPercent}% of the order's value ({compensation.View.Amount.AmountMinor} {currency}) to the buyer from the seller: {note}"
            : refund is null ? $"{outcome}: {note}" : $"{outcome}, {amount} {currency} back to the buyer: {note}");
        S.Version++;
        await WriteOrReload();
        // The inspection's fee before the refund: a seller who can no longer pay it undoes the verdict while nothing is booked.
        if (inspectionFee is { Booked: false } && await BookInspectionFee() is { } feeRefused)
        {
            return Refused(DisputeCommandStatus.Conflict, feeRefused);
        }
        if (refund is not null && await Book(refund) is { Status: not OrderRefundStatus.Accepted } refused)
        {
            if (compensation is not null)
            {
                // The seller's balances changed since the check: the booking undid the verdict (see BookCompensation).
                return Refused(DisputeCommandStatus.Conflict, refused.Reason ?? $"The compensation of dispute {d.DisputeId} could not be booked.");
            }
            // The ledger refused a refund out of the escrow the dispute kept held (it should not): the dispute is open again for
            // another decision, and customer service is told.
            S.Dispute = d;
            Record(now, "DisputeSettlementFailed", actor, refused.Reason);
            OpenTicket(now, ServiceTicketKinds.DisputeArbitration, $"The verdict on dispute {d.DisputeId} of order {OrderId} could not be carried out: {refused.Reason}");
            await Persist();
            return Refused(DisputeCommandStatus.Conflict, refused.Reason ?? $"The refund of dispute {d.DisputeId} could not be booked.");
        }
        if (S.Status is OrderStatus.Shipped or OrderStatus.Delivered)
        {
            Transition(OrderStatus.Completed, clock.GetUtcNow(), "Completed", actor, $"dispute {d.DisputeId} settled");
            await Persist();
        }
        return new DisputeResult(DisputeCommandStatus.Applied, S.Dispute, null, S.Status);
    }

    /// <summary>To the platform's arbitration (R-DIS-1): the seller contested it, or did not answer in time.</summary>
    private void Escalate(DisputeView d, DateTimeOffset now, OrderActor actor, string why, DisputeSellerResponse? response)
    {
        var due = DisputeRules.ArbitrationDue(now, _options.ArbitrationWorkingDays);
        S.TicketsToClose.Add(ServiceTicketKinds.DisputeAwaitingSeller);
        S.Dispute = d with { Status = DisputeStatus.UnderArbitration, EscalatedAt = now, ArbitrationDueAt = due, SellerResponse = response ?? d.SellerResponse };
        Record(now, "DisputeEscalated", actor, why);
        OpenTicket(now, ServiceTicketKinds.DisputeArbitration,
            $"Dispute {d.DisputeId} of order {OrderId} ({d.Reason}, {d.Requested.AmountMinor} {d.Requested.Currency} asked back) awaits a verdict by {due:u}: {why}.", due);
    }

    /// <summary>Ends an open dispute (withdrawn when the resolution has no outcome) and closes the ticket that waited on it.</summary>
    private void EndDispute(DisputeView d, DisputeResolution resolution)
    {
        S.TicketsToClose.Add(d.Status == DisputeStatus.AwaitingSeller ? ServiceTicketKinds.DisputeAwaitingSeller : ServiceTicketKinds.DisputeArbitration);
        if (d.Inspection is { Overdue: true })
        {
            S.TicketsToClose.Add(ServiceTicketKinds.InspectionOverdue);
        }
        if (d.Inspection is { } inspection && resolution.InspectionFee is null)
        {
            // Withdrawn, or closed with everything refunded, before a verdict said who was at fault: the platform bears the fee.
            var none = new Money(0, inspection.Fee.Currency);
            resolution = resolution with
            {
                InspectionFee = new InspectionFeeSettlement(inspection.InspectionId, InspectionFeePayer.Platform, inspection.Fee, none, none,
                    new Money(0, S.Totals!.Buyer.Currency), inspection.Fee, Booked: true),
            };
        }
        if (resolution.InspectionFee is { Booked: true, BorneByPlatform.AmountMinor: > 0 } borne)
        {
            Record(resolution.At, "InspectionFeeBorne", new OrderActor(resolution.By, null),
                $"the platform bears {borne.BorneByPlatform.AmountMinor} {borne.BorneByPlatform.Currency} of inspection {borne.InspectionId}'s fee"
                + (d.Inspection?.Report is { } report ? $" (finding: {report.Finding})" : " (no finding)"));
        }
        S.Dispute = d with { Status = resolution.Outcome is null ? DisputeStatus.Withdrawn : DisputeStatus.Resolved, Resolution = resolution };
    }

    private DisputeResult Refused(DisputeCommandStatus status, string reason) => new(status, null, reason, S.Status);
}

/// <summary>Pure rules of disputes.</summary>
public static class DisputeRules
{
    /// <summary>When an escalated dispute is due a verdict: <paramref name="workingDays"/> weekdays (UTC) after <paramref name="escalatedAt"/>.</summary>
    public static DateTimeOffset ArbitrationDue(DateTimeOffset escalatedAt, int workingDays)
    {
        var at = escalatedAt;
        for (var left = workingDays; left > 0;)
        {
            at = at.AddDays(1);
            if (at.UtcDateTime.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
            {
                left--;
            }
        }
        return at;
    }
}
