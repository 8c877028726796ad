using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Orders;

/// <summary>
/// The buyer's return of a delivered order's goods (R-DIS-4, R-DIS-5), kept in the order's own state like its dispute: the refund
/// it ends with and its decision are stored in one write, and while it is open the order's protection deadlines wait, so the
/// escrow it is paid from stays held.
/// </summary>
public sealed partial class OrderGrain
{
    private bool Returning => S.Return is { IsOpen: true };

    /// <summary>A dispute or a return is open: the order does not complete, and the escrow stays held for what they may refund.</summary>
    private bool AfterSalesOpen => Disputed || Returning;

    public async Task<ReturnResult> Return(ReturnCommand command)
    {
        if (S.Phase != OrderPhase.Live || !OrderPermissions.MayRead(command.Actor, S.Placement!.Owner, S.Placement.SellerId))
        {
            return new ReturnResult(ReturnCommandStatus.NotFound, null, $"Order {OrderId} does not exist.");
        }
        await CatchUpDeadlines();
        var now = clock.GetUtcNow();
        var actor = command.Actor;
        var placement = S.Placement!;
        var admin = actor.Role == "admin";
        var buyer = actor.Role == "buyer" && actor.Subject == placement.Owner || admin;
        var seller = actor.Role is "seller" or "erp" && actor.Subject == placement.SellerId || admin;
        if (command.Step != ReturnStep.Request && S.Return is null)
        {
            return new ReturnResult(ReturnCommandStatus.NotFound, null, $"Order {OrderId} has no return.", S.Status);
        }
        return command.Step switch
        {
            ReturnStep.Request => await RequestReturn(command, buyer, now),
            ReturnStep.GiveAddress => await GiveReturnAddress(S.Return!, command, seller, now),
            ReturnStep.Ship => await ShipReturn(S.Return!, command, buyer, now),
            ReturnStep.ConfirmReceipt => await ConfirmReturnReceipt(S.Return!, command, seller, now),
            ReturnStep.Withdraw => await WithdrawReturn(S.Return!, command, buyer, now),
            _ => await DecideReturn(S.Return!, command, admin || actor.Role == "analyst", now),
        };
    }

    private async Task<ReturnResult> RequestReturn(ReturnCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return ReturnRefused(ReturnCommandStatus.Forbidden, $"{c.Actor} may not return order {OrderId}'s goods: its buyer asks for a return.");
        }
        var lines = c.Lines is { Count: > 0 } asked ? asked : S.Lines.Select(l => new ReturnLine(l.SkuId, l.Quantity)).ToArray();
        if (S.Return is { } existing)
        {
            // The same request again (a retry whose answer was lost) is answered with the return it made.
            return existing.RequestedBy == c.Actor.ToString() && existing.Reason == c.Reason && existing.Description == c.Note
                && existing.Lines.SequenceEqual(lines)
                ? new ReturnResult(ReturnCommandStatus.Existing, existing, null, S.Status)
                : ReturnRefused(ReturnCommandStatus.Conflict,
                    $"Order {OrderId} has a return already (return {existing.ReturnId}, {existing.Status}); an order's goods are returned once.");
        }
        if (S.Status != OrderStatus.Delivered)
        {
            return ReturnRefused(ReturnCommandStatus.Conflict, S.Status switch
            {
                OrderStatus.Shipped => $"Order {OrderId} is not delivered yet: goods that never came are not sent back; dispute the order (notReceived) instead.",
                OrderStatus.Completed => $"Order {OrderId} is completed: its buyer protection window has ended, and its money went to the seller.",
                OrderStatus.Cancelled or OrderStatus.Closed => $"Order {OrderId} is {S.Status}: there is nothing left to return.",
                _ => $"Order {OrderId} is {S.Status} and has not been delivered: cancel it instead of returning it.",
            });
        }
        if (S.Dispute is { IsOpen: true } disputed)
        {
            return ReturnRefused(ReturnCommandStatus.Conflict,
                $"Order {OrderId} is disputed (dispute {disputed.DisputeId}, {disputed.Status}): its goods are returned only once the dispute ends.");
        }
        if (S.PaidBy is null)
        {
            return ReturnRefused(ReturnCommandStatus.Invalid,
                $"Order {OrderId} was not paid through the platform's payment provider, so the platform holds none of its money and could not refund the return: arrange it where it was paid.");
        }
        if (ReturnRules.CheckLines(S.Lines, lines, OrderPlacing.RefundedUnits(S)) is { } wrong)
        {
            return ReturnRefused(ReturnCommandStatus.Invalid, wrong.Reason, wrong.Field);
        }
        if (c.Reason == ReturnReason.NoReason)
        {
            var deliveredAt = DeliveredAt();
            if (now > deliveredAt + _options.NoReasonReturnWindow)
            {
                return ReturnRefused(ReturnCommandStatus.Invalid,
                    $"The no-reason return of order {OrderId} was open for {_options.NoReasonReturnWindow.TotalDays:0.#} days after its delivery ({deliveredAt:u}), until {deliveredAt + _options.NoReasonReturnWindow:u}; goods that are not as described, damaged or wrong can still be returned for that reason.",
                    "reason");
            }
            if (ReturnRules.NotReturnableForNoReason(S.Lines, lines, _options.NoReasonReturnExcludedCategories) is { } excluded)
            {
                return ReturnRefused(ReturnCommandStatus.Invalid, excluded.Reason, excluded.Field);
            }
        }
        // Compensations count: the buyer never gets back more than was paid.
        var (refunded, _) = PaidBackSoFar();
        var amount = ReturnRules.Amount(S.Lines, S.Totals!, lines, refunded, S.Coupon, OrderPlacing.RefundedUnits(S), OrderPlacing.Withheld(S));
        if (amount <= 0)
        {
            return ReturnRefused(ReturnCommandStatus.Conflict, $"Everything paid for order {OrderId} was refunded already: there is nothing left to refund for a return.");
        }
        var charged = S.Totals!.Charged;
        var sellerPays = c.Reason != ReturnReason.NoReason;
        var r = new ReturnView(Ulid.NewUlid(now).ToString(), ReturnStatus.AwaitingAddress, c.Reason!.Value, c.Note!, lines.ToArray(),
            new Money(amount, charged.Currency), sellerPays, c.Actor.ToString(), now, now + _options.ReturnAddressWindow, (c.Attachments ?? []).ToArray());
        S.Return = r;
        Record(now, "ReturnRequested", c.Actor,
            $"{r.Reason}: {UnitsOf(lines)} to send back for {amount} {charged.Currency}; the seller gives a return address by {r.AddressDueBy:u}");
        OpenTicket(now, ServiceTicketKinds.ReturnAwaitingAddress,
            $"The buyer of order {OrderId} asks to return {UnitsOf(lines)} ({r.Reason}{(sellerPays ? ", the seller pays the shipping back: send a prepaid label" : ", the buyer pays the shipping back")}): give return {r.ReturnId} an address by {r.AddressDueBy:u}, or {amount} {charged.Currency} is refunded without the goods coming back.",
            r.AddressDueBy);
        await Persist();
        return new ReturnResult(ReturnCommandStatus.Applied, S.Return, null, S.Status);
    }

    private async Task<ReturnResult> GiveReturnAddress(ReturnView r, ReturnCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return ReturnRefused(ReturnCommandStatus.Forbidden, "Only the order's seller gives the return address.");
        }
        if (r.Status != ReturnStatus.AwaitingAddress)
        {
            return r.ReturnAddress == c.Address && r.PrepaidLabel == c.Parcel && r.ReturnAddress is not null
                ? new ReturnResult(ReturnCommandStatus.Existing, r, null, S.Status)
                : ReturnRefused(ReturnCommandStatus.Conflict, r.Status switch
                {
                    ReturnStatus.Refunded when r.ReturnAddress is null =>
                        $"Return {r.ReturnId} was approved without the goods at {r.Ending?.At:u}: no return address came by {r.AddressDueBy:u} (R-DIS-5).",
                    ReturnStatus.AwaitingShipment or ReturnStatus.Shipped => $"Return {r.ReturnId} has its address already; the buyer sends the goods there.",
                    _ => $"Return {r.ReturnId} is {r.Status}; it takes no address now.",
                });
        }
        if (r.SellerPaysShipping && c.Parcel is null)
        {
            return ReturnRefused(ReturnCommandStatus.Invalid,
                $"Return {r.ReturnId} is for the seller's fault ({r.Reason}), so the seller pays the shipping back (R-DIS-4): send a prepaid label (carrier and tracking number) with the address.",
                "label");
        }
        S.Return = r with
        {
            Status = ReturnStatus.AwaitingShipment,
            ReturnAddress = c.Address,
            PrepaidLabel = c.Parcel,
            ShipBy = now + _options.ReturnShipWindow,
        };
        S.TicketsToClose.Add(ServiceTicketKinds.ReturnAwaitingAddress);
        Record(now, "ReturnAddressGiven", c.Actor,
            $"send the goods back to {c.Address!.Name}, {c.Address.City}, {c.Address.Country} by {S.Return.ShipBy:u}" + (c.Parcel is { } label ? $" with the prepaid {label.Carrier} label {label.TrackingNumber}" : "")
            + (c.Note is null ? "" : $": {c.Note}"));
        await Persist();
        return new ReturnResult(ReturnCommandStatus.Applied, S.Return, null, S.Status);
    }

    private async Task<ReturnResult> ShipReturn(ReturnView r, ReturnCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return ReturnRefused(ReturnCommandStatus.Forbidden, "Only the order's buyer sends its goods back.");
        }
        var parcel = c.Parcel ?? r.PrepaidLabel;
        if (r.Status != ReturnStatus.AwaitingShipment)
        {
            return r.Status == ReturnStatus.Shipped && r.Parcel == parcel
                ? new ReturnResult(ReturnCommandStatus.Existing, r, null, S.Status)
                : ReturnRefused(ReturnCommandStatus.Conflict, r.Status switch
                {
                    ReturnStatus.AwaitingAddress => $"Return {r.ReturnId} has no return address yet: the seller gives one by {r.AddressDueBy:u}.",
                    ReturnStatus.Shipped => $"Return {r.ReturnId}'s goods were sent back at {r.ShippedAt:u} ({r.Parcel!.Carrier} {r.Parcel.TrackingNumber}).",
                    _ => $"Return {r.ReturnId} is {r.Status}; nothing is sent back now.",
                });
        }
        if (parcel is null)
        {
            return ReturnRefused(ReturnCommandStatus.Invalid, "carrier and trackingNumber are required: the seller gave no prepaid label for this return.", "carrier");
        }
        S.Return = r with { Status = ReturnStatus.Shipped, Parcel = parcel, ShippedAt = now, ReceiptDueBy = now + _options.ReturnReceiptWindow };
        Record(now, "ReturnShipped", c.Actor, $"{parcel.Carrier} {parcel.TrackingNumber}; the seller confirms the goods by {S.Return.ReceiptDueBy:u}");
        await Persist();
        return new ReturnResult(ReturnCommandStatus.Applied, S.Return, null, S.Status);
    }

    private async Task<ReturnResult> ConfirmReturnReceipt(ReturnView r, ReturnCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return ReturnRefused(ReturnCommandStatus.Forbidden, "Only the order's seller confirms the goods that came back.");
        }
        if (r.Status is not (ReturnStatus.AwaitingShipment or ReturnStatus.Shipped))
        {
            var sameReport = r.SellerReport is { } given && given.By == c.Actor.ToString() && given.Note == c.Note;
            return sameReport && (c.Accept == true ? r.Status == ReturnStatus.Refunded : r.Status == ReturnStatus.UnderArbitration)
                ? new ReturnResult(ReturnCommandStatus.Existing, r, null, S.Status)
                : ReturnRefused(ReturnCommandStatus.Conflict, r.Status == ReturnStatus.AwaitingAddress
                    ? $"Return {r.ReturnId} has no return address yet: give one first."
                    : $"Return {r.ReturnId} is {r.Status}; its goods' receipt is no longer confirmed.");
        }
        var report = new ReturnNote(c.Actor.ToString(), now, c.Note!);
        if (c.Accept == true)
        {
            // R-DIS-5 refunds within 1-3 working days of the seller's confirmation: this refunds at once. Goods the seller puts back
            // into a warehouse's stock go there once the refund is stored (see RestockReturn).
            return await SettleReturn(r with { SellerReport = report, RestockWarehouseId = c.WarehouseId }, r.Amount.AmountMinor, c.Actor, c.Note!, now);
        }
        var due = DisputeRules.ArbitrationDue(now, _options.ArbitrationWorkingDays);
        S.Return = r with { Status = ReturnStatus.UnderArbitration, SellerReport = report, ArbitrationDueAt = due };
        Record(now, "ReturnContested", c.Actor, c.Note);
        OpenTicket(now, ServiceTicketKinds.ReturnArbitration,
            $"The seller of order {OrderId} reports a problem with the goods of return {r.ReturnId} ({r.Reason}, {r.Amount.AmountMinor} {r.Amount.Currency} to refund): {c.Note}. Decide by {due:u}.",
            due);
        await Persist();
        return new ReturnResult(ReturnCommandStatus.Applied, S.Return, null, S.Status);
    }

    private async Task<ReturnResult> WithdrawReturn(ReturnView r, ReturnCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return ReturnRefused(ReturnCommandStatus.Forbidden, "Only the order's buyer withdraws its return.");
        }
        if (r.Status is not (ReturnStatus.AwaitingAddress or ReturnStatus.AwaitingShipment))
        {
            return r.Status == ReturnStatus.Cancelled && r.Ending?.By == c.Actor.ToString()
                ? new ReturnResult(ReturnCommandStatus.Existing, r, null, S.Status)
                : ReturnRefused(ReturnCommandStatus.Conflict, r.Status is ReturnStatus.Shipped or ReturnStatus.UnderArbitration
                    ? $"Return {r.ReturnId}'s goods were sent back at {r.ShippedAt:u}: it can no longer be withdrawn."
                    : $"Return {r.ReturnId} is {r.Status}; it can no longer be withdrawn.");
        }
        EndReturn(r, ReturnStatus.Cancelled, new ReturnNote(c.Actor.ToString(), now, c.Note ?? "withdrawn by the buyer"));
        // The order goes on where it was: its protection deadlines count again (one that passed meanwhile is carried out now).
        Record(now, "ReturnWithdrawn", c.Actor, c.Note);
        await Persist();
        return new ReturnResult(ReturnCommandStatus.Applied, S.Return, null, S.Status);
    }

    private async Task<ReturnResult> DecideReturn(ReturnView r, ReturnCommand c, bool allowed, DateTimeOffset now)
    {
        if (!allowed)
        {
            return ReturnRefused(ReturnCommandStatus.Forbidden, "A return's verdict is given by an arbitrator (an admin or an analyst).");
        }
        if (r.Status != ReturnStatus.UnderArbitration)
        {
            // The same verdict: its arbitrator, note, outcome and (for a partial refund) amount. A return decided before the verdict
            // was kept tells its outcome by its status only.
            var done = r.Ending is { } ending && ending.By == c.Actor.ToString() && ending.Note == c.Note
                && (c.Outcome == ReturnOutcome.Reject ? r.Status == ReturnStatus.Rejected : r.Status == ReturnStatus.Refunded)
                && (r.Verdict is null || (r.Verdict == c.Outcome && (c.Outcome != ReturnOutcome.PartialRefund || r.VerdictAmount == c.Amount)));
            return done
                ? new ReturnResult(ReturnCommandStatus.Existing, r, null, S.Status)
                : ReturnRefused(ReturnCommandStatus.Conflict, r.IsOpen
                    ? $"Return {r.ReturnId} is {r.Status}: an arbitrator decides only when the seller reports a problem with the goods that came back."
                    : $"Return {r.ReturnId} is {r.Status} already; a verdict is final (R-DIS-3).");
        }
        var currency = r.Amount.Currency;
        r = r with { Verdict = c.Outcome, VerdictAmount = c.Outcome == ReturnOutcome.PartialRefund ? c.Amount : null };
        switch (c.Outcome)
        {
            case ReturnOutcome.Reject:
                EndReturn(r, ReturnStatus.Rejected, new ReturnNote(c.Actor.ToString(), now, c.Note!));
                Record(now, "ReturnRejected", c.Actor, c.Note);
                await Persist();
                return new ReturnResult(ReturnCommandStatus.Applied, S.Return, null, S.Status);
            case ReturnOutcome.PartialRefund:
                if (c.Amount is not { } part || part.Currency != currency || part.AmountMinor <= 0)
                {
                    return ReturnRefused(ReturnCommandStatus.Invalid, $"A partial refund names its amount: a positive amount in the order's currency, {currency}.", "amount");
                }
                if (part.AmountMinor >= r.Amount.AmountMinor)
                {
                    return ReturnRefused(ReturnCommandStatus.Invalid,
                        $"A partial refund is less than the return's {r.Amount.AmountMinor} {currency}; to refund all of it, decide refund.", "amount");
                }
                return await SettleReturn(r, part.AmountMinor, c.Actor, c.Note!, now, verdict: true);
            default:
                return await SettleReturn(r, r.Amount.AmountMinor, c.Actor, c.Note!, now, verdict: true);
        }
    }

    /// <summary>
    /// Refunds a return (R-DIS-5): its end and the refund's intent are stored together, then the refund is booked out of the escrow
    /// the open return kept held; an unbooked refund is booked by the order's deadline work after a crash. The order's protection
    /// deadlines then count again: it completes at its own time, or at once if that passed (closed if everything went back).
    /// </summary>
    private async Task<ReturnResult> SettleReturn(ReturnView r, long amount, OrderActor actor, string note, DateTimeOffset now, bool verdict = false)
    {
        var currency = S.Totals!.Charged.Currency;
        var paidBack = PaidBackSoFar().Seller;
        var remaining = S.Totals.Charged.AmountMinor - paidBack;
        // The return's units' share as it stands now: the same as when it was asked for, unless other units were refunded by lines
        // meanwhile and its units are now the last (then it gives back all that is left, shipping included, as a refund of every
        // unit does). A partial verdict pays what it says, and keeps the rest of that share with the seller.
        var share = ReturnRules.Amount(S.Lines, S.Totals, r.Lines, paidBack, S.Coupon, OrderPlacing.RefundedUnits(S), OrderPlacing.Withheld(S));
        var withheld = amount < r.Amount.AmountMinor ? Math.Max(0, share - amount) : 0;
        amount = Math.Min(amount < r.Amount.AmountMinor ? amount : share, remaining);
        var ending = new ReturnNote(actor.ToString(), now, note);
        if (amount <= 0)
        {
            // Refunded another way meanwhile (an admin's refund): the buyer has everything back already.
            EndReturn(r, ReturnStatus.Refunded, ending with { Note = $"{note} (everything paid was refunded already)" });
            Record(now, "ReturnEnded", actor, "everything paid was refunded already");
            await Persist();
            return new ReturnResult(ReturnCommandStatus.Applied, S.Return, null, S.Status);
        }
        if (NewRefund($"return:{r.ReturnId}", "", amount, actor, $"return {r.ReturnId}: {note}", now, r.Lines) is not { } refund)
        {
            return ReturnRefused(ReturnCommandStatus.Invalid,
                $"{amount} {currency} is less than the smallest amount the buyer paid in ({S.Totals.Buyer.Currency}); refund more, or reject the return.", "amount");
        }
        refund.Withheld = withheld;
        S.Refunds.Add(refund);
        EndReturn(r, ReturnStatus.Refunded, ending);
        S.Return = S.Return! with { Refund = refund.View.Amount, RefundId = refund.View.RefundId };
        Record(now, "ReturnRefunded", actor, $"{amount} {currency} back to the buyer{(verdict ? " by the arbitrator's verdict" : "")}: {note}");
        S.Version++;
        await WriteOrReload();
        if (await Book(refund) is { Status: not OrderRefundStatus.Accepted } refused)
        {
            // The ledger refused a refund out of the escrow the return kept held (it should not): the return is open again where
            // it was, and customer service is told.
            S.Return = r with { Verdict = null, VerdictAmount = null };
            Record(now, "ReturnRefundFailed", actor, refused.Reason);
            OpenTicket(now, ServiceTicketKinds.ReturnArbitration, $"The refund of return {r.ReturnId} of order {OrderId} could not be booked: {refused.Reason}");
            await Persist();
            return ReturnRefused(ReturnCommandStatus.Conflict, refused.Reason ?? $"The refund of return {r.ReturnId} could not be booked.");
        }
        return new ReturnResult(ReturnCommandStatus.Applied, S.Return, null, S.Status);
    }

    /// <summary>A refunded return whose goods the seller put back into a warehouse's stock, and the SKUs have not taken yet.</summary>
    private ReturnView? ReturnToRestock => S.Return is { Status: ReturnStatus.Refunded, RestockWarehouseId: not null, Restocked: false } r ? r : null;

    /// <summary>
    /// Puts the returned units back into the warehouse the seller named (R-INV-1), as stock adjustments whose event id names the
    /// return, so a repeat after a crash is a duplicate the SKU ignores. A SKU that refuses (its stock at its limit) is noted on
    /// the timeline; the seller's ERP corrects it.
    /// </summary>
    private async Task RestockReturn(ReturnView r)
    {
        var refused = new List<string>();
        foreach (var line in r.Lines)
        {
            var result = await GrainFactory.GetGrain<ISkuGrain>(line.SkuId).AdjustStock(
                new StockAdjustment(r.RestockWarehouseId!, $"return-{r.ReturnId}", line.Quantity, $"returned by the buyer of order {OrderId}"), null);
            if (result.Status is not (StockWriteStatus.Applied or StockWriteStatus.Duplicate))
            {
                refused.Add($"{line.SkuId}: {result.Reason ?? result.Status.ToString()}");
            }
        }
        var now = clock.GetUtcNow();
        S.Return = r with { Restocked = true };
        Record(now, refused.Count == 0 ? "ReturnRestocked" : "ReturnRestockRefused", OrderActor.System,
            refused.Count == 0 ? $"{UnitsOf(r.Lines)} back into stock at {r.RestockWarehouseId}" : string.Join("; ", refused), notify: false);
        S.Version++;
        await WriteOrReload();
    }

    /// <summary>The open return whose own deadline (R-DIS-5) has passed, if any.</summary>
    private ReturnView? ReturnDue(DateTimeOffset now) =>
        S.Status == OrderStatus.Delivered && S.Return is { IsOpen: true } r && ReturnRules.DueAt(r) is { } due && now >= due ? r : null;

    /// <summary>
    /// A return's deadline: no address in time approves it without the goods (R-DIS-5), goods not sent in time end it, and goods
    /// the seller does not confirm in time are refunded all the same.
    /// </summary>
    private async Task CarryOutReturnDeadline(ReturnView r, DateTimeOffset now)
    {
        switch (r.Status)
        {
            case ReturnStatus.AwaitingAddress:
                await SettleReturn(r, r.Amount.AmountMinor, OrderActor.System,
                    $"approved without the goods coming back: the seller gave no return address within {_options.ReturnAddressWindow.TotalHours:0.#} hours", now);
                break;
            case ReturnStatus.AwaitingShipment:
                EndReturn(r, ReturnStatus.Cancelled, new ReturnNote(OrderActor.System.ToString(), now, $"the goods were not sent back by {r.ShipBy:u}"));
                Record(now, "ReturnLapsed", OrderActor.System, $"the goods were not sent back by {r.ShipBy:u}");
                await Persist();
                break;
            default:
                await SettleReturn(r, r.Amount.AmountMinor, OrderActor.System,
                    $"the seller did not confirm the returned goods within {_options.ReturnReceiptWindow.TotalDays:0.#} days of their dispatch", now);
                break;
        }
    }

    /// <summary>Ends an open return and closes the ticket that waited on it.</summary>
    private void EndReturn(ReturnView r, ReturnStatus status, ReturnNote ending)
    {
        switch (r.Status)
        {
            case ReturnStatus.AwaitingAddress:
                S.TicketsToClose.Add(ServiceTicketKinds.ReturnAwaitingAddress);
                break;
            case ReturnStatus.UnderArbitration:
                S.TicketsToClose.Add(ServiceTicketKinds.ReturnArbitration);
                break;
        }
        S.Return = r with { Status = status, Ending = ending };
    }

    /// <summary>When the order was delivered: the carrier's delivery event, or the order's, or (trimmed from both) its confirmation window's start.</summary>
    private DateTimeOffset DeliveredAt() =>
        S.TrackingOrEmpty.LastOrDefault(e => e.Kind == TrackingEventKind.Delivered)?.At
        ?? S.Timeline.FindLast(e => e.Event == "Delivered")?.At
        ?? (S.Deadlines.AutoCompleteAt ?? clock.GetUtcNow()) - _options.AutoCompleteAfter;

    private static string UnitsOf(IReadOnlyList<ReturnLine> lines) => string.Join(", ", lines.Select(l => $"{l.Quantity} × {l.SkuId}"));

    private ReturnResult ReturnRefused(ReturnCommandStatus status, string reason, string? field = null) => new(status, null, reason, S.Status, field);
}

/// <summary>Pure rules of returns.</summary>
public static class ReturnRules
{
    /// <summary>When an open return's own deadline passes: the address, the dispatch, or the receipt; none under arbitration.</summary>
    public static DateTimeOffset? DueAt(ReturnView r) => r.Status == ReturnStatus.UnderArbitration ? null : r.DueAt;

    /// <summary>Lines asked for that the order does not have, in numbers it does not have, or twice; null when all are right.</summary>
    /// <remarks>With <paramref name="refunded"/>, units refunded already are not there to ask for again.</remarks>
    public static (string Field, string Reason)? CheckLines(IReadOnlyList<OrderLine> order, IReadOnlyList<ReturnLine> lines,
        IReadOnlyDictionary<string, long>? refunded = null)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Count; i++)
        {
            var asked = lines[i];
            var line = order.FirstOrDefault(l => l.SkuId == asked.SkuId);
            if (line is null)
            {
                return ($"lines[{i}].skuId", $"The order has no line of SKU '{asked.SkuId}'.");
            }
            if (!seen.Add(asked.SkuId))
            {
                return ($"lines[{i}].skuId", $"SKU '{asked.SkuId}' is listed twice; list each line once with all its units.");
            }
            var done = refunded?.GetValueOrDefault(asked.SkuId) ?? 0;
            if (done >= line.Quantity)
            {
                return ($"lines[{i}].skuId", $"All {line.Quantity} units of SKU '{asked.SkuId}' were refunded already.");
            }
            if (asked.Quantity < 1 || asked.Quantity > line.Quantity - done)
            {
                return ($"lines[{i}].quantity", done == 0
                    ? $"lines[{i}].quantity is 1 to {line.Quantity}, the units of SKU '{asked.SkuId}' the order holds."
                    : $"lines[{i}].quantity is 1 to {line.Quantity - done}: {done} of the {line.Quantity} units of SKU '{asked.SkuId}' were refunded already.");
            }
        }
        return null;
    }

    /// <summary>The first line of a category whose goods cannot be sent back for no reason (R-DIS-4), or null.</summary>
    public static (string Field, string Reason)? NotReturnableForNoReason(IReadOnlyList<OrderLine> order, IReadOnlyList<ReturnLine> lines,
        IReadOnlyCollection<string> excludedCategories)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            var category = order.First(l => l.SkuId == lines[i].SkuId).Category;
            if (category is not null && excludedCategories.Contains(category, StringComparer.OrdinalIgnoreCase))
            {
                return ($"lines[{i}].skuId",
                    $"SKU '{lines[i].SkuId}' is in category '{category}', whose goods cannot be returned for no reason (R-DIS-4); they can be returned if not as described, damaged or wrong.");
            }
        }
        return null;
    }

    /// <summary>
    /// What a return refunds, in the order's currency: the returned units' share of what their lines were paid (after a coupon's
    /// share, R-SET-3) and, for goods that paid VAT at checkout, their share of it, rounded down; everything not refunded yet
    /// (shipping included) when every unit goes back, less what an arbitrator's partial refund kept with the seller
    /// (<paramref name="withheld"/>); never more than that.
    /// </summary>
    public static long Amount(IReadOnlyList<OrderLine> order, OrderTotals totals, IReadOnlyList<ReturnLine> lines, long refundedSoFar,
        OrderCoupon? coupon = null, IReadOnlyDictionary<string, long>? refundedUnits = null, long withheld = 0)
    {
        var remaining = totals.Charged.AmountMinor - refundedSoFar - withheld;
        // Every unit not refunded yet: the rest of what was paid.
        var everything = order.All(l => lines.Any(r => r.SkuId == l.SkuId && r.Quantity + (refundedUnits?.GetValueOrDefault(l.SkuId) ?? 0) == l.Quantity)
            || refundedUnits?.GetValueOrDefault(l.SkuId) == l.Quantity && lines.All(r => r.SkuId != l.SkuId));
        if (everything)
        {
            return Math.Max(0, remaining);
        }
        long goods = 0;
        foreach (var returned in lines)
        {
            var at = IndexOf(order, returned.SkuId);
            var paid = order[at].LineTotal.AmountMinor - (coupon?.LineDiscount(at) ?? 0);
            goods += (long)Math.Floor(paid * (decimal)returned.Quantity / order[at].Quantity);
        }
        // The VAT was on goods and shipping together: the units take their goods' share of it (their shipping is not refunded).
        var taxed = totals.Seller.AmountMinor + (totals.Shipping?.AmountMinor ?? 0);
        var tax = totals.Tax is { AmountMinor: > 0 } vat && taxed > 0 ? (long)Math.Floor(vat.AmountMinor * (decimal)goods / taxed) : 0;
        return Math.Max(0, Math.Min(goods + tax, remaining));
    }

    private static int IndexOf(IReadOnlyList<OrderLine> order, string skuId)
    {
        for (var i = 0; i < order.Count; i++)
        {
            if (order[i].SkuId == skuId)
            {
                return i;
            }
        }
        throw new ArgumentException($"The order has no line of SKU '{skuId}'.", nameof(skuId));
    }
}
