using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Orders;

public sealed partial class OrderGrain(
    [PersistentState(stateName: OrderGrain.StateName, storageName: StorageNames.Trade)] IPersistentState<OrderState> state,
    IFxRates fxRates,
    IOptions<OrderOptions> orderOptions,
    IOptions<DisputeOptions> disputeOptions,
    CachedWarehouses warehouses,
    Logistics.CachedShippingTemplates shippingTemplates,
    Logistics.CachedCarrierCatalog carriers,
    IOptions<Wallets.SettlementOptions> settlementOptions,
    IOptions<Payments.PaymentOptions> paymentOptions,
    TradeClock clock,
    WakeIndexMover wakes,
    ILogger<OrderGrain> logger) : Grain, IOrderGrain, IWakeableGrain, IRemindable
{
    /// <summary>The order grain's state name (also written by a SKU placing an order, and named by its wake-time moves).</summary>
    public const string StateName = "order";

    /// <summary>The per-order reminder of earlier versions; a tick now retires it (the deadline index took over).</summary>
    private const string DeadlineReminder = "deadlines";
    private static readonly TimeSpan OutboxRetryPeriod = TimeSpan.FromSeconds(5);
    private readonly OrderOptions _options = orderOptions.Value;
    private readonly DisputeOptions _disputeOptions = disputeOptions.Value;
    private IGrainTimer? _outboxRetry;
    /// <summary>
    /// The wake time this activation's last write indexed, while it is known to be what the row holds and was brought forward
    /// for follow-up calls (escrow, stock, refunds) that the write left to do.
    /// </summary>
    private DateTimeOffset? _indexedWake;
    private bool _indexedWakeKnown;
    private PrepareResult? _prepared;

    private string OrderId => this.GetPrimaryKeyString();
    private OrderState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (HasOutboxWork())
        {
            ScheduleOutboxRetry();
        }
        return Task.CompletedTask;
    }

    // ---------------------------------------------------------------- placement

    public async Task<PrepareResult> Prepare(OrderPlacement placement)
    {
        switch (S.Phase)
        {
            case OrderPhase.Live:
                return new PrepareResult(PrepareStatus.Prepared, [], null);
            case OrderPhase.Aborted:
                return new PrepareResult(PrepareStatus.Expired, [], $"Order {OrderId} was abandoned ({S.AbortReason}).");
            case OrderPhase.New:
                if (placement.Lines.Count is 0 || placement.Lines.Count > _options.MaxLinesPerOrder)
                {
                    return new PrepareResult(PrepareStatus.Refused, [], $"An order holds 1 to {_options.MaxLinesPerOrder} lines.");
                }
                var now = clock.GetUtcNow();
                S.Placement = placement;
                S.Phase = OrderPhase.Preparing;
                S.CreatedAt = now;
                S.UpdatedAt = now;
                // Not written: the reservations are tentative until the placement time-out. If the checkout dies half-way, the
                // SKUs ask this order then (KeepsReservation), find it unplaced, and give the units back.
                break;
        }
        _prepared = await ReserveAll();
        return _prepared;
    }

    public async Task<OrderView?> Confirm()
    {
        var order = (await ConfirmWith(null)).Order;
        LeaveIfPlaced(order, payment: null);
        return order;
    }

    /// <summary>
    /// A checkout's order leaves memory as soon as it is placed and durable, unless a payment was registered in the placing write
    /// (that payment calls the order back within moments). What comes next to an unpaid order comes from outside (the buyer's
    /// payment, a page reload, its payment deadline) seconds to minutes later, and meets one state read; held for its idle age
    /// instead, a flash sale's orders were the largest part of the silo's heap, and collecting that heap cost more than the read
    /// (see README, Performance: about a quarter more checkouts a second on this machine).
    /// </summary>
    private void LeaveIfPlaced(OrderView? order, PaymentRegistration? payment)
    {
        if (order is not null && payment is null && !HasOutboxWork())
        {
            DeactivateOnIdle();
        }
    }

    /// <summary>Confirms, registering <paramref name="payment"/> (if any) in the same write; a live order registers it alone.</summary>
    private async Task<(OrderView? Order, PaymentRegistration? Payment)> ConfirmWith(PaymentRegistrationRequest? payment)
    {
        if (S.Phase == OrderPhase.Live)
        {
            if (payment is null)
            {
                return (View(), null);
            }
            var registered = await RegisterPayment(payment);
            return (View(), registered);
        }
        if (S.Phase == OrderPhase.Aborted)
        {
            return (null, null);
        }
        if (S.Phase == OrderPhase.New)
        {
            // Prepared in an activation that is gone (a silo restarted); nothing was stored. The checkout's retry prepares again
            // (the SKUs answer the same reservations) and confirms.
            throw new TransientStorageException($"Order {OrderId} lost its placement before it was confirmed; retry with the same Idempotency-Key.");
        }
        if (S.Phase != OrderPhase.Preparing)
        {
            throw new InvalidOperationException($"Order {OrderId} cannot be confirmed in phase {S.Phase}.");
        }
        // Re-reserving is a no-op that returns the held allocation; it rebuilds the lines after a reactivation.
        var prepared = _prepared ?? await ReserveAll();
        if (prepared.Status != PrepareStatus.Prepared)
        {
            throw new InvalidOperationException($"Order {OrderId} is not fully reserved: {prepared.Status} {prepared.Reason}");
        }
        var placement = S.Placement!;
        var now = clock.GetUtcNow();
        OrderPlacing.GoLive(S, OrderId, now, _options);
        if (placement.External is { PaidExternally: true })
        {
            ApplyPaymentConfirmed(now, OrderActor.System, $"paid on {placement.External.Platform}");
        }
        var registration = payment is null ? null : Register(payment);
        await Persist();
        return (View(), registration);
    }

    public async Task<PlaceResult> Place(OrderPlacement placement, PaymentRegistrationRequest? payment)
    {
        var prepared = await Prepare(placement);
        if (prepared.Status != PrepareStatus.Prepared)
        {
            await Abort(prepared.Reason ?? "some lines could not be had");
            return new PlaceResult(prepared, null);
        }
        var (order, registration) = await ConfirmWith(payment);
        LeaveIfPlaced(order, registration);
        return order is null
            ? new PlaceResult(new PrepareResult(PrepareStatus.Expired, [], $"Order {OrderId} was abandoned ({S.AbortReason})."), null)
            : new PlaceResult(prepared, order, registration);
    }

    public async Task Abort(string reason)
    {
        if (S.Phase is OrderPhase.Aborted or OrderPhase.New)
        {
            return;
        }
        if (S.Phase == OrderPhase.Live)
        {
            throw new InvalidOperationException($"Order {OrderId} is live; cancel it instead of aborting.");
        }
        S.Phase = OrderPhase.Aborted;
        S.AbortReason = reason;
        S.PendingReleases.AddRange(Reservations());
        GiveBackCoupon();
        S.UpdatedAt = clock.GetUtcNow();
        if (state.RecordExists)
        {
            // Prepared by an earlier version, which stored the placement: the abort must be stored too.
            await WriteOrReload();
        }
        // An unstored placement needs no write: if a release fails, the SKU's hold runs out and it asks this order again.
        await DrainStockWork();
    }

    public async Task Unprepare(string reason)
    {
        if (S.Phase != OrderPhase.Preparing)
        {
            return;
        }
        if (state.RecordExists)
        {
            await Abort(reason); // prepared by an earlier version, which stored the placement
            return;
        }
        // A hold not given back now runs out, and its SKU then asks this order, which (stored nowhere) keeps nothing.
        await GiveBackNow(Reservations());
        if (S.Coupon is not null)
        {
            // Best effort, as for the holds: a redemption not given back now is given back when its hold time passes.
            try
            {
                await GrainFactory.GetGrain<ISellerCouponsGrain>(S.Placement!.SellerId).GiveBack(OrderId);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Order {OrderId} could not give back its coupon's redemption; its hold runs out", OrderId);
            }
        }
        // Nothing was stored: leaving memory forgets the preparation, as a restarted silo would, and the retry starts afresh.
        DeactivateOnIdle();
    }

    /// <summary>
    /// Gives tentative holds back at once, best effort, for a preparation that failed: a hold that cannot be given back now runs
    /// out at the placement time-out, when its SKU asks this order.
    /// </summary>
    private async Task GiveBackNow(IEnumerable<HeldReservation> holds)
    {
        try
        {
            await Task.WhenAll(holds.Select(r => GrainFactory.GetGrain<ISkuGrain>(r.SkuId).ReleaseReservation(r.ReservationId)));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Order {OrderId} could not give back every line it held; those holds run out", OrderId);
        }
    }

    public async Task<bool> KeepsReservation(string reservationId)
    {
        switch (S.Phase)
        {
            case OrderPhase.Live when reservationId == CouponCodes.ReservationId(OrderId):
                // The coupon's redemption stands while the order was not cancelled (a cancellation gives it back itself).
                return S.Coupon is { Redemption: CouponRedemptionState.Held };
            case OrderPhase.Live:
                return Reservations().Any(r => r.ReservationId == reservationId);
            case OrderPhase.Preparing:
                // Not placed in time: a late Confirm is refused, and every line's units go back (this SKU's too, if it asks first).
                logger.LogInformation("Order {OrderId} gives up its placement: its stock hold ran out before it was confirmed", OrderId);
                await Abort("the checkout did not complete in time");
                return false;
            default:
                return false;
        }
    }

    private IEnumerable<HeldReservation> Reservations() =>
        S.Placement!.Lines.Select((line, i) => new HeldReservation(line.SkuId, ReservationIds.For(OrderId, i)));

    /// <summary>Reserves every line (idempotent per reservation id) and builds the priced lines and totals.</summary>
    private async Task<PrepareResult> ReserveAll()
    {
        var placement = S.Placement!;
        var ranked = await warehouses.RankedForAsync(placement.ShipTo.Country, GrainFactory.GetGrain<IWarehouseRegistryGrain>(WarehouseRegistry.Key).List);
        var reservations = Reservations().ToArray();
        var reserving = placement.Lines.Select((line, i) =>
            GrainFactory.GetGrain<ISkuGrain>(line.SkuId).Reserve(new StockReservationRequest(reservations[i].ReservationId, line.Quantity, ranked, S.CreatedAt + _options.PlacementTimeout,
                placement.SellerId))).ToArray();
        StockReservationResult[] results;
        try
        {
            results = await Task.WhenAll(reserving);
        }
        catch
        {
            // A line that failed (its SKU's write, a time-out) fails this attempt, which the caller is told to retry: the lines it
            // did get go back now rather than at the placement time-out, minutes during which no other buyer could have them.
            // Best effort: a hold that cannot be given back now still runs out. A retry reserves again under the same ids.
            await GiveBackNow(reservations.Where((_, i) => reserving[i].IsCompletedSuccessfully && reserving[i].Result.Status == ReservationStatus.Reserved));
            throw;
        }

        string? refusal = null;
        for (var i = 0; i < results.Length; i++)
        {
            var catalog = results[i].Catalog;
            refusal ??= results[i].Status == ReservationStatus.UnknownSku ? $"SKU '{placement.Lines[i].SkuId}' does not exist."
                : catalog is not null && catalog.SellerId != placement.SellerId ? $"SKU '{placement.Lines[i].SkuId}' is no longer sold by seller '{placement.SellerId}'."
                : catalog is not null && catalog.Price.Currency != results[0].Catalog?.Price.Currency ? $"The lines of seller '{placement.SellerId}' are priced in different currencies."
                : null;
        }
        var shortLines = new List<ShortLine>();
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].Status == ReservationStatus.Insufficient)
            {
                shortLines.Add(new ShortLine(placement.Lines[i].SkuId, placement.Lines[i].Quantity, results[i].Available,
                    await SubstituteOffers.FindAsync(GrainFactory, results[i].Catalog, placement.Lines[i].Quantity)));
            }
        }
        if (refusal is not null || shortLines.Count > 0)
        {
            // Give back what this attempt did get; the checkout aborts the other sellers' orders.
            await Task.WhenAll(results.Select((r, i) => r.Status == ReservationStatus.Reserved
                ? GrainFactory.GetGrain<ISkuGrain>(reservations[i].SkuId).ReleaseReservation(reservations[i].ReservationId)
                : Task.CompletedTask));
            return refusal is not null
                ? new PrepareResult(PrepareStatus.Refused, [], refusal)
                : new PrepareResult(PrepareStatus.Short, shortLines, null);
        }

        if (await ProhibitedGoods(results) is { } prohibited)
        {
            // Give back what this attempt got, as for a refused line (a hold that cannot be given back now runs out).
            await GiveBackNow(reservations);
            return new PrepareResult(PrepareStatus.Refused, [], prohibited);
        }
        if (placement.CouponCode is { } code)
        {
            string? couponRefused;
            try
            {
                couponRefused = await RedeemCoupon(code, results);
            }
            catch
            {
                // The coupon did not answer: this attempt fails and its lines go back now, as when a line fails (a redemption it
                // may have taken is given back when its hold time passes, the order never placed).
                await GiveBackNow(reservations);
                throw;
            }
            if (couponRefused is not null)
            {
                // Give back what this attempt got, as for a refused line; the coupon counted nothing.
                await GiveBackNow(reservations);
                return new PrepareResult(PrepareStatus.Refused, [], couponRefused);
            }
        }
        return OrderPlacing.Price(S, results, fxRates, _options, await ShippingTemplates(results)) is { } noRate
            ? new PrepareResult(PrepareStatus.Refused, [], noRate)
            : new PrepareResult(PrepareStatus.Prepared, [], null);
    }

    /// <summary>
    /// Why the order cannot be placed for its restricted goods (R-LOG-2): a line's SKU holds goods its destination prohibits, so no
    /// carrier may take it there; null when none does (and no read at all when no SKU holds restricted goods).
    /// </summary>
    private async ValueTask<string?> ProhibitedGoods(IReadOnlyList<StockReservationResult> results)
    {
        var country = S.Placement!.ShipTo.Country;
        Logistics.CarrierCatalog? catalog = null;
        for (var i = 0; i < results.Count; i++)
        {
            if (results[i].Catalog?.RestrictedGoods is { Count: > 0 } goods
                && Logistics.CarrierRules.Prohibited(catalog ??= await carriers.GetAsync(GrainFactory), country, goods) is { Count: > 0 } prohibited)
            {
                return $"SKU '{S.Placement.Lines[i].SkuId}' cannot be shipped to {country}: it holds " +
                    $"{string.Join(", ", prohibited.Select(Logistics.CarrierRules.Camel))}, which {country} prohibits, so no carrier may take it there.";
            }
        }
        return null;
    }

    /// <summary>
    /// Takes a redemption of the seller's coupon for this order (the same again on a retry) in the saga that reserves its stock,
    /// with the goods' list value; returns why the coupon does not apply, or null with <see cref="OrderState.Coupon"/> set.
    /// </summary>
    private async Task<string?> RedeemCoupon(string code, IReadOnlyList<StockReservationResult> results)
    {
        var placement = S.Placement!;
        var currency = results[0].Catalog!.Price.Currency;
        long goods;
        try
        {
            goods = checked(results.Select((r, i) => r.Catalog!.Price.AmountMinor * placement.Lines[i].Quantity).Aggregate(0L, (a, b) => checked(a + b)));
        }
        catch (OverflowException)
        {
            return "The order's total is too large to be priced and charged in minor units of these currencies.";
        }
        var lines = results.Select((r, i) => new CouponLine(placement.Lines[i].SkuId, r.Catalog!.Category,
            r.Catalog.Price.AmountMinor * placement.Lines[i].Quantity)).ToArray(); // each within the goods' checked sum
        var redemption = await GrainFactory.GetGrain<ISellerCouponsGrain>(placement.SellerId).Redeem(new CouponRedemptionRequest(
            code, OrderId, placement.Owner, new Money(goods, currency), S.CreatedAt, S.CreatedAt + _options.PlacementTimeout, lines,
            placement.CheckoutKey));
        if (!redemption.Redeemed)
        {
            return (redemption.Reason ?? $"Coupon '{code}' cannot be applied.") + " Nothing was placed.";
        }
        S.Coupon = new OrderCoupon(code, redemption.Discount!, [], EligibleLines: redemption.EligibleLines, FreeShipping: redemption.FreeShipping);
        return null;
    }

    /// <summary>The order ends before it was fulfilled (cancelled, aborted): its coupon's redemption counts no longer.</summary>
    private void GiveBackCoupon()
    {
        if (S.Coupon is { Redemption: CouponRedemptionState.Held } coupon)
        {
            S.Coupon = coupon with { Redemption = CouponRedemptionState.GivingBack };
        }
    }

    /// <summary>
    /// The shipping templates the reserved lines' SKUs name (R-LOG-1), from this silo's copy; null when none names one, and for
    /// an import, which carries no shipping (<see cref="OrderPlacing.Price"/>).
    /// </summary>
    private async ValueTask<IReadOnlyDictionary<string, Logistics.ShippingTemplate>?> ShippingTemplates(IReadOnlyList<StockReservationResult> results)
    {
        if (S.Placement!.Source == OrderSource.Import)
        {
            return null;
        }
        Dictionary<string, Logistics.ShippingTemplate>? templates = null;
        foreach (var result in results)
        {
            if (result.Catalog?.ShippingTemplateId is { } id && templates?.ContainsKey(id) != true
                && await shippingTemplates.GetAsync(result.Catalog.SellerId, id, GrainFactory) is { } template)
            {
                (templates ??= new(StringComparer.Ordinal))[id] = template;
            }
        }
        return templates;
    }

    // ---------------------------------------------------------------- lifecycle

    public Task<OrderView?> Get() => Task.FromResult(S.Phase == OrderPhase.Live ? View() : null);

    /// <summary>
    /// A paid order released to its seller leaves memory once its checkout has its view and its escrow hold and stock commit
    /// are done: what comes next (the seller's shipment, a buyer's question) comes hours later and meets one state read. Kept
    /// for its idle age instead, the paid orders of a flash sale stayed in the heap half a minute each, and every collection in
    /// that time carried them. An order still waiting for its payment (or its review) stays.
    /// </summary>
    public Task<OrderView?> CheckoutView()
    {
        if (S.Phase == OrderPhase.Live && S.Status == OrderStatus.AwaitingShipment && !HasOutboxWork())
        {
            DeactivateOnIdle();
        }
        return Get();
    }

    public Task<IReadOnlyList<TimelineEntry>> GetTimeline() =>
        Task.FromResult<IReadOnlyList<TimelineEntry>>(S.Phase == OrderPhase.Live ? S.Timeline.ToArray() : []);

    /// <summary>Units refunded so far with those an open return will refund added.</summary>
    private static IReadOnlyDictionary<string, long> WithUnitsOf(IReadOnlyDictionary<string, long> refunded, ReturnView open)
    {
        var units = new Dictionary<string, long>(refunded, StringComparer.Ordinal);
        foreach (var line in open.Lines)
        {
            units[line.SkuId] = units.GetValueOrDefault(line.SkuId) + line.Quantity;
        }
        return units;
    }

    public async Task<TransitionResult> Apply(OrderCommand command)
    {
        if (S.Phase != OrderPhase.Live)
        {
            return new TransitionResult(TransitionStatus.NotFound, null, $"Order {OrderId} does not exist.");
        }
        if (command.Action == OrderAction.RecordDelivery && command.Actor.Role == "carrier" && !OrderPermissions.SameCarrier(command.Actor.Subject, S.Shipment?.Carrier))
        {
            // A carrier sees only the orders it carries: another order counts as missing, so its status is not told either.
            return new TransitionResult(TransitionStatus.NotFound, null, $"Order {OrderId} does not exist.");
        }
        if (!OrderPermissions.MayApply(command.Actor, command.Action, S.Placement!.Owner, S.Placement.SellerId, S.Status))
        {
            return new TransitionResult(TransitionStatus.Forbidden, null, $"{command.Actor.Role} may not {command.Action} order {OrderId}.");
        }
        await CatchUpDeadlines();
        if (await CorrectShipment(command) is { } corrected)
        {
            return corrected;
        }
        if (command.Action == OrderAction.Complete && S.Dispute is { IsOpen: true } disputed)
        {
            // Completing releases the escrow the dispute may still be paid from (R-DIS-3).
            return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                $"Order {OrderId} is disputed (dispute {disputed.DisputeId}, {disputed.Status}); it completes when the dispute ends: the buyer withdraws it, or the seller or an arbitrator settles it.");
        }
        if (command.Action == OrderAction.Complete && S.Return is { IsOpen: true } returning)
        {
            // Completing releases the escrow the return is refunded from (R-DIS-5).
            return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                $"Order {OrderId}'s goods are being returned (return {returning.ReturnId}, {returning.Status}); it completes when the return ends: refunded, rejected or withdrawn.");
        }
        if (command.Action == OrderAction.Close && S.Status == OrderStatus.Completed && S.PaidBy is not null
            && PaidBackSoFar().Seller < S.Totals!.Charged.AmountMinor)
        {
            // Closing gives back whatever the escrow still holds; a completed order's escrow went to the seller, so closing it
            // would give the buyer nothing while its refunds then stop. A refund (its seller's money) comes first.
            return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                $"Order {OrderId} is completed: its escrow was released to the seller, so closing it would give the buyer nothing back. " +
                $"Refund it first (POST /orders/{OrderId}/refunds, from the seller's balance); an order with everything refunded closes.");
        }
        if (command.Action == OrderAction.Complete && !RefundsBooked)
        {
            // Completing releases what the escrow holds less what was refunded: a refund whose booking was cut off is booked
            // first, or the release would not add up (a refund the seller can no longer fund is dropped, as it would have been).
            foreach (var unbooked in S.Refunds.Where(r => !r.Booked).ToArray())
            {
                await Book(unbooked);
            }
        }
        if (!OrderTransitions.TryApply(S.Status, command.Action, out var next))
        {
            return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                $"Order {OrderId} is {S.Status}; {command.Action} is allowed only in: {string.Join(", ", StatusesAllowing(command.Action))}.");
        }
        if (command.Action == OrderAction.ConfirmPayment && S.Status == OrderStatus.AwaitingPayment && S.PaymentLookupUntil is not null)
        {
            // Past the window only a payment made within it (found by its attempt's lookup) pays the order, as if the sweeper had
            // cancelled it on time.
            return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                $"Order {OrderId}'s payment window closed at {S.Deadlines.PaymentDueAt:u}; it waits until {S.PaymentLookupUntil:u} for its open payments' answers from the provider, then is cancelled unless one of them paid it.");
        }
        var now = clock.GetUtcNow();
        OrderRefundRecord? lateCompensation = null;
        switch (command.Action)
        {
            case OrderAction.ConfirmPayment:
                ApplyPaymentConfirmed(now, command.Actor, command.Reason);
                CloseOtherAttempts();
                break;
            case OrderAction.ApproveReview when (S.CaptureLock ?? S.ReviewedPayment) is { } held:
                // The payment is only authorized: the analysts' decision captures it; approving the order alone would ship unpaid goods.
                return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                    $"Order {OrderId} waits on the risk review of payment {held}; decide it at /api/v1/risk/reviews/{held}/decision.");
            case OrderAction.ApproveReview:
                Transition(next, now, "ReviewApproved", command.Actor, command.Reason);
                S.Deadlines = S.Deadlines with { ShipBy = OrderPlacing.ShipBy(S, now) };
                break;
            case OrderAction.Accept:
                if (S.Accepted)
                {
                    return new TransitionResult(TransitionStatus.Applied, View(), null);
                }
                S.Accepted = true;
                Record(now, "Accepted", command.Actor, command.Reason);
                break;
            case OrderAction.Ship:
                if (string.IsNullOrWhiteSpace(command.Carrier) || string.IsNullOrWhiteSpace(command.TrackingNumber))
                {
                    return new TransitionResult(TransitionStatus.Invalid, null, "Shipping needs a carrier and a tracking number.");
                }
                S.Shipment = new Shipment(command.Carrier, command.TrackingNumber, now);
                S.PendingCommits.AddRange(Reservations());
                Transition(next, now, "Shipped", command.Actor, $"{command.Carrier} {command.TrackingNumber}");
                lateCompensation = CompensateLateShipment(now);
                break;
            case OrderAction.RecordDelivery:
                S.Deadlines = S.Deadlines with { AutoCompleteAt = now + _options.AutoCompleteAfter };
                Transition(next, now, "Delivered", command.Actor, command.Reason);
                break;
            case OrderAction.Cancel when command.Actor.Role == "analyst" && (S.CaptureLock ?? S.ReviewedPayment) is { } reviewed:
                // The review's claimer decides it; a cancellation by another analyst would bypass the claim.
                return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                    $"Order {OrderId} waits on the risk review of payment {reviewed}; decide it at /api/v1/risk/reviews/{reviewed}/decision.");
            case OrderAction.Cancel:
                Cancel(now, command.Actor, command.Reason ?? "cancelled");
                break;
            default:
                Transition(next, now, next.ToString(), command.Actor, command.Reason);
                break;
        }
        await Persist();
        if (lateCompensation is not null)
        {
            await BookAfterShipping(lateCompensation);
        }
        return new TransitionResult(TransitionStatus.Applied, View(), null);
    }

    // ---------------------------------------------------------------- payments (R-PAY-1, R-PAY-3)

    public async Task<PaymentRegistration> RegisterPayment(PaymentRegistrationRequest request)
    {
        var registration = Register(request);
        if (registration.Status == PaymentRegistrationStatus.Created)
        {
            await Persist();
        }
        return registration;
    }

    /// <summary>Checks a payment attempt and, when it is new and allowed, records it in memory (the caller writes it).</summary>
    private PaymentRegistration Register(PaymentRegistrationRequest request) =>
        OrderPlacing.RegisterPayment(S, OrderId, request, clock.GetUtcNow(), fxRates, paymentOptions.Value, _options);

    public async Task<PaymentDecision> PaymentAuthorized(string paymentId)
    {
        if (S.PaidBy == paymentId || S.CaptureLock == paymentId)
        {
            return PaymentDecision.Proceed;
        }
        if (S.Phase != OrderPhase.Live || S.Status != OrderStatus.AwaitingPayment || S.CaptureLock is not null
            || S.Payments.Find(p => p.Start.PaymentId == paymentId) is null)
        {
            return PaymentDecision.Refuse;
        }
        S.CaptureLock = paymentId;
        Record(clock.GetUtcNow(), "PaymentAuthorized", PaymentActor(paymentId), null, notify: false);
        await Persist();
        return PaymentDecision.Proceed;
    }

    public async Task<PaymentDecision> PaymentCaptured(string paymentId)
    {
        if (S.PaidBy == paymentId)
        {
            return PaymentDecision.Proceed;
        }
        var reviewed = S.Status == OrderStatus.RiskReview && S.CaptureLock == paymentId;
        if (S.Phase != OrderPhase.Live || (S.Status != OrderStatus.AwaitingPayment && !reviewed) || (S.CaptureLock is not null && S.CaptureLock != paymentId)
            || S.Payments.Find(p => p.Start.PaymentId == paymentId) is not { } payment)
        {
            return PaymentDecision.Refuse;
        }
        S.PaidBy = paymentId;
        CloseOtherAttempts();
        S.CaptureLock = null;
        ApplyPaymentConfirmed(clock.GetUtcNow(), PaymentActor(paymentId), $"{payment.Start.Instrument.Type} payment {paymentId}", reviewed);
        await Persist();
        return PaymentDecision.Proceed;
    }

    public async Task<PaymentDecision> PaymentCapturedForReview(string paymentId, string reason)
    {
        if (S.PaidBy == paymentId)
        {
            return PaymentDecision.Proceed;
        }
        if (S.Phase != OrderPhase.Live || S.Status != OrderStatus.AwaitingPayment || (S.CaptureLock is not null && S.CaptureLock != paymentId)
            || S.Payments.Find(p => p.Start.PaymentId == paymentId) is not { } payment)
        {
            return PaymentDecision.Refuse;
        }
        S.PaidBy = paymentId;
        CloseOtherAttempts();
        S.CaptureLock = null;
        S.ReviewedPayment = paymentId;
        var now = clock.GetUtcNow();
        Transition(OrderStatus.Paid, now, "Paid", PaymentActor(paymentId), $"{payment.Start.Instrument.Type} payment {paymentId}");
        Transition(OrderStatus.RiskReview, now, "HeldForReview", PaymentActor(paymentId), reason);
        await Persist();
        return PaymentDecision.Proceed;
    }

    public async Task PaymentReviewDecided(string paymentId, bool approved, string note)
    {
        if (S.Status != OrderStatus.RiskReview || S.ReviewedPayment != paymentId)
        {
            return;
        }
        var now = clock.GetUtcNow();
        S.ReviewedPayment = null;
        if (approved)
        {
            Transition(OrderStatus.AwaitingShipment, now, "ReviewApproved", PaymentActor(paymentId), note);
            S.Deadlines = S.Deadlines with { ShipBy = OrderPlacing.ShipBy(S, now) };
            await Persist();
            return;
        }
        Cancel(now, PaymentActor(paymentId), $"rejected by the risk review: {note}");
        // Durable now; the refund, stock and escrow work runs in a turn of its own: the payment waiting on this call is the one
        // the refund goes to (calling it from here would deadlock until the call times out). The wake index is the backstop.
        S.Version++;
        await WriteOrReload();
        _drainSoon ??= this.RegisterGrainTimer(static async (grain, _) =>
        {
            grain._drainSoon?.Dispose();
            grain._drainSoon = null;
            await grain.DrainStockWork();
        }, this, new GrainTimerCreationOptions { DueTime = TimeSpan.Zero, Period = Timeout.InfiniteTimeSpan, Interleave = false });
    }

    private IGrainTimer? _drainSoon;

    public async Task PaymentFailed(string paymentId, string reason)
    {
        if (S.Payments.Find(p => p.Start.PaymentId == paymentId) is not { Failed: false } payment || S.PaidBy == paymentId)
        {
            return;
        }
        payment.Failed = true;
        var now = clock.GetUtcNow();
        if (S.CaptureLock == paymentId)
        {
            S.CaptureLock = null;
            if (S.Status == OrderStatus.RiskReview)
            {
                // Rejected by an analyst: the authorization was voided; the order ends, its stock goes back, and its other attempts
                // still open to the buyer (a bank transfer, a 3-D Secure challenge) are voided, as any cancellation does.
                Cancel(now, PaymentActor(paymentId), reason);
                await Persist();
                return;
            }
        }
        // An attempt voided because the order was cancelled: the buyer heard of the cancellation, not of a failed payment.
        Record(now, "PaymentFailed", PaymentActor(paymentId), reason, notify: !OrderTransitions.IsTerminal(S.Status));
        await Persist();
    }

    private static OrderActor PaymentActor(string paymentId) => new("payment", paymentId);

    public async Task<PaymentDecision> PaymentHeldForReview(string paymentId, string reason)
    {
        if (S.Status == OrderStatus.RiskReview && S.CaptureLock == paymentId)
        {
            return PaymentDecision.Proceed;
        }
        if (S.Phase != OrderPhase.Live || S.Status != OrderStatus.AwaitingPayment || (S.CaptureLock is not null && S.CaptureLock != paymentId)
            || S.Payments.Find(p => p.Start.PaymentId == paymentId) is null)
        {
            return PaymentDecision.Refuse;
        }
        S.CaptureLock = paymentId;
        Transition(OrderStatus.RiskReview, clock.GetUtcNow(), "HeldForReview", PaymentActor(paymentId), reason);
        await Persist();
        return PaymentDecision.Proceed;
    }

    public Task<IReadOnlyList<OrderPaymentAttempt>> PaymentAttempts() => Task.FromResult<IReadOnlyList<OrderPaymentAttempt>>(
        S.Payments.Select(p => new OrderPaymentAttempt(p.Start.PaymentId, p.Start.Instrument.Type, p.CreatedAt)).ToArray());

    // ---------------------------------------------------------------- refunds (R-SET-3)

    public Task<IReadOnlyList<OrderRefundView>> Refunds() =>
        Task.FromResult<IReadOnlyList<OrderRefundView>>(S.Refunds.Select(r => r.View).ToArray());

    public async Task<OrderRefundResult> RequestRefund(OrderRefundRequest request)
    {
        if (S.Phase != OrderPhase.Live)
        {
            return new OrderRefundResult(OrderRefundStatus.NotFound, null, $"Order {OrderId} does not exist.");
        }
        if (!OrderPermissions.MayRefund(request.Actor, S.Placement!.SellerId))
        {
            return new OrderRefundResult(OrderRefundStatus.Forbidden, null, $"{request.Actor} may not refund order {OrderId}.");
        }
        var hash = $"{request.Amount?.AmountMinor}|{request.Amount?.Currency}|{request.Reason}"
            + (request.Lines is { } named ? "|" + string.Join(',', named.Select(l => $"{l.SkuId}:{l.Quantity}")) : "");
        if (S.Refunds.Find(r => r.Key == request.Key) is { } existing)
        {
            if (existing.RequestHash != hash)
            {
                return new OrderRefundResult(OrderRefundStatus.KeyReused, null,
                    "This Idempotency-Key was used with a different refund request; use a new key for a new refund.");
            }
            // A retry of a refund whose booking was interrupted books it now (same refund id: the ledger skips a repeat).
            return existing.Booked ? new OrderRefundResult(OrderRefundStatus.Existing, existing.View, null, S.Status) : await Book(existing);
        }
        var charged = S.Totals!.Charged;
        if (S.PaidBy is null || S.Status is OrderStatus.Cancelled or OrderStatus.Closed or OrderStatus.AwaitingPayment)
        {
            return new OrderRefundResult(OrderRefundStatus.NotRefundable, null, S.PaidBy is null && S.Status is not (OrderStatus.Cancelled or OrderStatus.Closed)
                ? $"Order {OrderId} was not paid through the platform's payment provider; there is nothing to refund here."
                : $"Order {OrderId} is {S.Status}; it has nothing left to refund.", S.Status);
        }
        if (request.Amount is { } asked && (asked.Currency != charged.Currency || asked.AmountMinor <= 0))
        {
            return new OrderRefundResult(OrderRefundStatus.Invalid, null,
                $"A refund amount is a positive amount in the order's currency, {charged.Currency}.");
        }
        var refundedUnits = OrderPlacing.RefundedUnits(S);
        if (request.Lines is { } returnedLines && S.Return is { IsOpen: true } open
            && ReturnRules.CheckLines(S.Lines, returnedLines, WithUnitsOf(refundedUnits, open)) is not null
            && ReturnRules.CheckLines(S.Lines, returnedLines, refundedUnits) is null)
        {
            // The units of an open return are refunded by the return: refunded by lines now too, they would be paid twice.
            return new OrderRefundResult(OrderRefundStatus.Invalid, null,
                $"Order {OrderId}'s return {open.ReturnId} ({open.Status}) refunds {string.Join(", ", open.Lines.Select(l => $"{l.Quantity} of SKU '{l.SkuId}'"))} " +
                "when it ends; refund other units by lines, or let the return refund these.");
        }
        if (request.Lines is { } lines && (request.Amount is not null || ReturnRules.CheckLines(S.Lines, lines, refundedUnits) is not null))
        {
            return new OrderRefundResult(OrderRefundStatus.Invalid, null, request.Amount is not null
                ? "A refund names an amount or lines, not both."
                : ReturnRules.CheckLines(S.Lines, lines, refundedUnits)!.Value.Reason);
        }
        var remaining = charged.AmountMinor - PaidBackSoFar().Seller;
        // Units are refunded what they were paid (R-SET-3: their line's value less its share of a coupon) and their VAT share.
        var requested = request.Lines is { } units
            ? ReturnRules.Amount(S.Lines, S.Totals!, units, PaidBackSoFar().Seller, S.Coupon, refundedUnits, OrderPlacing.Withheld(S))
            : request.Amount?.AmountMinor ?? remaining;
        if (remaining <= 0 || requested > remaining)
        {
            return new OrderRefundResult(OrderRefundStatus.ExceedsPaid, null,
                $"At most {remaining} {charged.Currency} of order {OrderId} can still be refunded.", S.Status);
        }
        if (NewRefund(request.Key, hash, requested, request.Actor, request.Reason, clock.GetUtcNow(), request.Lines) is not { } record)
        {
            return new OrderRefundResult(OrderRefundStatus.Invalid, null,
                $"{requested} {charged.Currency} is less than the smallest amount the buyer paid in ({S.Totals.Buyer.Currency}); refund more.");
        }
        // The intent is written first, so a crash between the ledger and the order cannot book a refund twice under two ids.
        S.Refunds.Add(record);
        await WriteOrReload();
        return await Book(record);
    }

    /// <summary>
    /// A refund of <paramref name="requested"/> (at most what is still refundable) in the order's currency with its share of what the
    /// buyer paid, not yet stored or booked; null when that share is less than a minor unit of the buyer's currency.
    /// </summary>
    private OrderRefundRecord? NewRefund(string key, string hash, long requested, OrderActor actor, string? reason, DateTimeOffset now,
        IReadOnlyList<ReturnLine>? lines = null)
    {
        var charged = S.Totals!.Charged;
        // Compensations count: the buyer never gets back more than was paid.
        var (refunded, refundedBuyer) = PaidBackSoFar();
        var remaining = charged.AmountMinor - refunded;
        // An amount asked is money back, counted on what was charged (after any coupon: R-SET-3), so no scaling is due; a coupon's
        // lines are refunded by their paid share through returns (ReturnRules.Amount).
        var amount = Wallets.RefundCalculator.Refundable(new Money(requested, charged.Currency), charged, new Money(0, charged.Currency),
            new Money(refunded, charged.Currency));
        var buyer = S.Totals.Buyer;
        var buyerAmount = amount.AmountMinor == remaining
            ? buyer.AmountMinor - refundedBuyer
            : (long)Math.Floor(amount.AmountMinor * (decimal)buyer.AmountMinor / charged.AmountMinor);
        return buyerAmount <= 0 ? null : new OrderRefundRecord
        {
            Key = key,
            RequestHash = hash,
            View = new OrderRefundView(Ulid.NewUlid(now).ToString(), amount, new Money(buyerAmount, buyer.Currency), Payments.RefundStatus.Pending,
                reason, actor.ToString(), now),
            Lines = lines,
        };
    }

    private async Task<OrderRefundResult> Book(OrderRefundRecord record)
    {
        if (S.PendingEscrow.Contains(EscrowStep.Hold))
        {
            // The escrow's own steps first (a hold cut off by a crash or a failed ledger write after the order's write): the
            // ledger refuses a refund out of a hold it has not seen, and the refund would be dropped as if nothing were paid.
            await DrainStockWork();
            if (S.PendingEscrow.Contains(EscrowStep.Hold))
            {
                throw new TransientStorageException($"The escrow of order {OrderId} is not on the seller's ledger yet; the refund is booked when it is, or retry.");
            }
        }
        if (record.View.Kind == OrderRefundKind.Compensation)
        {
            return await BookCompensation(record);
        }
        var result = S.EscrowState is EscrowStep.Hold or EscrowStep.Release
            ? await GrainFactory.GetGrain<Wallets.ISellerLedgerGrain>(S.Placement!.SellerId)
                .Refund(new Wallets.LedgerRefund(OrderId, record.View.RefundId, record.View.Amount))
            : Wallets.LedgerRefundResult.Applied;
        if (result is Wallets.LedgerRefundResult.InsufficientFunds or Wallets.LedgerRefundResult.ExceedsPaid)
        {
            S.Refunds.Remove(record);
            await WriteOrReload();
            return result == Wallets.LedgerRefundResult.InsufficientFunds
                ? new OrderRefundResult(OrderRefundStatus.InsufficientSellerFunds, null,
                    $"Seller '{S.Placement!.SellerId}' has not enough available balance and deposit to fund this refund.", S.Status)
                : new OrderRefundResult(OrderRefundStatus.ExceedsPaid, null, $"The ledger holds less for order {OrderId} than this refund.", S.Status);
        }
        record.Booked = true;
        var now = clock.GetUtcNow();
        var actor = new OrderActor(record.View.Actor, null);
        Record(now, "RefundRequested", actor, $"{record.View.BuyerAmount.AmountMinor} {record.View.BuyerAmount.Currency}: {record.View.Reason ?? "no reason given"}");
        if (RefundedSoFar().Seller >= S.Totals!.Charged.AmountMinor)
        {
            // Everything went back: before shipment the order is cancelled (stock returns), after it the order is closed.
            if (S.Status is OrderStatus.Paid or OrderStatus.RiskReview or OrderStatus.AwaitingShipment)
            {
                // A review of the money no longer here has nothing left to decide: its payment withdraws it when the refund
                // reaches it (PaymentGrain.RequestRefund), asking until the review confirms.
                S.PendingReleases.AddRange(Reservations());
                Transition(OrderStatus.Cancelled, now, "Cancelled", actor, "refunded in full");
            }
            else if (OrderTransitions.TryApply(S.Status, OrderAction.Close, out var closed))
            {
                Transition(closed, now, "Closed", actor, "refunded in full");
            }
        }
        await Persist();
        return new OrderRefundResult(OrderRefundStatus.Accepted, record.View, null, S.Status);
    }

    public async Task RefundSettled(string refundId, Payments.RefundStatus status)
    {
        if (S.Refunds.Find(r => r.View.RefundId == refundId) is not { } record || record.View.Status != Payments.RefundStatus.Pending)
        {
            return;
        }
        record.View = record.View with { Status = status };
        var now = clock.GetUtcNow();
        var compensation = record.View.Kind == OrderRefundKind.Compensation;
        Record(now, (compensation, status == Payments.RefundStatus.Succeeded) switch
        {
            (false, true) => "Refunded",
            (false, false) => "RefundFailed",
            (true, true) => "CompensationPaid",
            (true, false) => "CompensationFailed",
        }, PaymentActor(S.PaidBy ?? "?"),
            $"{record.View.BuyerAmount.AmountMinor} {record.View.BuyerAmount.Currency}");
        if (status == Payments.RefundStatus.Failed)
        {
            OpenTicket(now, ServiceTicketKinds.RefundFailed, $"Refund {refundId} of order {OrderId} was refused by the payment provider; pay it back by hand.");
        }
        await Persist();
    }

    private bool RefundsBooked => S.Refunds.TrueForAll(r => r.Booked);

    /// <summary>Refunds not failed, in the order's currency and in the buyer's.</summary>
    private (long Seller, long Buyer) RefundedSoFar() => OrderPlacing.RefundedSoFar(S);

    /// <summary>Refunds and compensations not failed: what the buyer has had back, in the order's currency and in the buyer's.</summary>
    private (long Seller, long Buyer) PaidBackSoFar() => OrderPlacing.PaidBackSoFar(S);

    /// <summary>Paid, then straight on to the seller or held for review (R-ORD-3), in one step.</summary>
    private void ApplyPaymentConfirmed(DateTimeOffset now, OrderActor actor, string? reason, bool reviewed = false)
    {
        Transition(OrderStatus.Paid, now, "Paid", actor, reason);
        if (S.ReviewReason is not null && !reviewed)
        {
            Transition(OrderStatus.RiskReview, now, "HeldForReview", OrderActor.System, S.ReviewReason);
        }
        else
        {
            Transition(OrderStatus.AwaitingShipment, now, "ReleasedToSeller", OrderActor.System, null);
            S.Deadlines = S.Deadlines with { ShipBy = OrderPlacing.ShipBy(S, now) };
        }
    }

    private static IEnumerable<OrderStatus> StatusesAllowing(OrderAction action) =>
        Enum.GetValues<OrderStatus>().Where(s => OrderTransitions.Allowed(s).Contains(action));

    // ---------------------------------------------------------------- deadlines

    public async Task<WakeAnswer> WakeUp()
    {
        await CheckDeadlines();
        return new WakeAnswer(state.Etag, NextWake(clock.GetUtcNow()));
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == DeadlineReminder)
        {
            if (await this.GetReminder(DeadlineReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
            await CheckDeadlines();
            if (S.Phase != OrderPhase.New)
            {
                // Puts the order in the deadline index.
                await WriteOrReload();
            }
        }
    }

    private DateTimeOffset? NextWake(DateTimeOffset now) => OrderPlacing.NextWake(S, now, _options);

    /// <summary>
    /// Before an actor's step: a deadline passed that the sweeper has not reached yet (it comes once a period, and not while a
    /// silo restarts) has its action first, as if the sweeper had been on time. Otherwise an order past its payment window was
    /// paid instead of cancelled, a seller shipping past the ship-by time was never marked late, and a seller answering a dispute
    /// after its window would not find it escalated.
    /// </summary>
    private async Task CatchUpDeadlines()
    {
        if (NextWake(clock.GetUtcNow()) is { } due && due <= clock.GetUtcNow())
        {
            await CheckDeadlines();
        }
    }

    private async Task CheckDeadlines()
    {
        var now = clock.GetUtcNow();
        switch (S.Phase)
        {
            case OrderPhase.Preparing when now - S.CreatedAt >= _options.PlacementTimeout:
                await Abort("the checkout did not complete in time");
                return;
            case OrderPhase.Preparing:
                return;
            case OrderPhase.New:
                return;
            case OrderPhase.Aborted:
                await DrainStockWork();
                return;
        }
        if (S.Status == OrderStatus.AwaitingPayment && S.CaptureLock is { } capturing)
        {
            // The payment being captured owns no reminder: nudge it, so a crash in the middle of its capture cannot stall it.
            await GrainFactory.GetGrain<Payments.IPaymentGrain>(capturing).Resume();
        }
        else if (S.Status == OrderStatus.AwaitingPayment && now >= S.Deadlines.PaymentDueAt)
        {
            // Open attempts finish what they started: each asks the provider, so money the buyer paid in time whose webhook was
            // lost (a 3-D Secure challenge passed, a transfer received, just before the deadline) pays the order. Their answers come
            // after this turn, so the order waits one check period for them before it cancels (a late authorization is then
            // refused by the cancelled order and voided); no new attempt is taken meanwhile.
            var open = S.Payments.Where(p => !p.Failed).ToArray();
            foreach (var attempt in open)
            {
                await GrainFactory.GetGrain<Payments.IPaymentGrain>(attempt.Start.PaymentId).Resume();
            }
            if (open.Length > 0 && S.PaymentLookupUntil is null)
            {
                S.PaymentLookupUntil = now + _options.DeadlineCheckPeriod;
                await Persist();
            }
            else if (open.Length == 0 || now >= S.PaymentLookupUntil)
            {
                Cancel(now, OrderActor.System, "payment deadline passed");
                await Persist();
            }
        }
        else if (S.Status == OrderStatus.RiskReview && S.CaptureLock is not null && now >= S.Deadlines.ReviewExpiresAt)
        {
            Cancel(now, OrderActor.System, $"the risk review was not decided within {_options.ReviewHoldLimit.TotalDays:0.#} days; the payment's authorization is voided");
            await Persist();
        }
        else if (S.Status == OrderStatus.RiskReview && !S.ReviewOverdue && now >= S.Deadlines.ReviewDueAt)
        {
            S.ReviewOverdue = true;
            OpenTicket(now, ServiceTicketKinds.ReviewOverdue, $"Order {OrderId} in risk review was due for a decision by {S.Deadlines.ReviewDueAt:u}"
                + (S.CaptureLock is { } held ? $"; decide payment {held}'s review before {S.Deadlines.ReviewExpiresAt:u}, when the order is cancelled." : "."));
            await Persist();
        }
        else if (S.Status is OrderStatus.Shipped or OrderStatus.Delivered && S.Dispute is { Status: DisputeStatus.AwaitingSeller } unanswered
            && now >= unanswered.RespondBy)
        {
            Escalate(unanswered, now, OrderActor.System, $"the seller did not answer within {_options.DisputeResponseWindow.TotalHours:0.#} hours", null);
            await Persist();
        }
        else if (S.Status is OrderStatus.Shipped or OrderStatus.Delivered
            && S.Dispute is { Status: DisputeStatus.UnderArbitration, Inspection: { Report: null, Overdue: false } late } inspected && now >= late.DueAt)
        {
            await ReportInspectionOverdue(inspected, late, now);
        }
        else if (ReturnDue(now) is { } returnDue)
        {
            await CarryOutReturnDeadline(returnDue, now);
        }
        else if (S.Status is OrderStatus.Shipped or OrderStatus.Delivered && S.Dispute is { Status: DisputeStatus.Resolved, Resolution.InspectionFee.Booked: false })
        {
            // Decided, but its inspection's fee was not booked (cut off after the verdict's write): booked before the refund (see SettleDispute).
            await BookInspectionFee();
        }
        else if (S.Status is OrderStatus.Shipped or OrderStatus.Delivered && S.Dispute is { Status: DisputeStatus.Resolved } && RefundsBooked)
        {
            // Decided, and its refund booked, but the completion was cut off (see SettleDispute).
            Transition(OrderStatus.Completed, now, "Completed", OrderActor.System, "the dispute was settled");
            await Persist();
        }
        // The protection window's deadlines wait while a dispute or a return is open.
        // A refund whose booking was cut off is booked first (below): completing before it would release more than the escrow holds.
        else if (S.Status == OrderStatus.Shipped && !AfterSalesOpen && RefundsBooked && now >= OrderPlacing.ShippedCompletesAt(S, _options))
        {
            Transition(OrderStatus.Completed, now, "Completed", OrderActor.System, "protection window lapsed without a delivery event or a buyer action");
            await Persist();
        }
        else if (S.Status == OrderStatus.Shipped && !S.StallReported && !Disputed && now >= OrderPlacing.StalledAt(S, _options))
        {
            S.StallReported = true;
            Record(now, "ShipmentStalled", OrderActor.System, $"no tracking update for {_options.StalledShipmentAfter.TotalDays:0.#} days");
            var remedy = StalledShipments.Propose(StalledShipments.FactsOf(S, _options, now));
            OpenTicket(now, ServiceTicketKinds.StalledShipment,
                $"Order {OrderId} shipped on {S.Shipment!.ShippedAt:u} ({S.Shipment.Carrier} {S.Shipment.TrackingNumber}) has had no tracking update since {OrderTracking.LastUpdate(S):u}. "
                + $"Proposed remedy: {remedy.Text}", remedy: remedy.Remedy);
            await Persist();
        }
        else if (S.Status == OrderStatus.AwaitingShipment && !S.Late && now >= S.Deadlines.ShipBy)
        {
            S.Late = true;
            Record(now, "MarkedLate", OrderActor.System, $"not shipped by {S.Deadlines.ShipBy:u}");
            OpenTicket(now, ServiceTicketKinds.LateShipment, $"Order {OrderId} was not shipped by {S.Deadlines.ShipBy:u}.");
            await Persist();
        }
        else if (S.Status == OrderStatus.Delivered && !AfterSalesOpen && RefundsBooked && now >= S.Deadlines.AutoCompleteAt)
        {
            Transition(OrderStatus.Completed, now, "Completed", OrderActor.System, "protection window lapsed without a buyer action");
            await Persist();
        }
        else if (HasOutboxWork())
        {
            // A refund whose booking was cut off (its intent stored, the ledger call failed) is booked now rather than when its
            // client retries, which it may never do: until then it counts as refunded, and the escrow release would not add up.
            // The ledger skips a refund id it booked before; one the seller cannot fund is dropped, as it would have been.
            var unbooked = S.Refunds.Where(r => !r.Booked).ToArray();
            if (unbooked.Length > 0)
            {
                // The escrow's own steps first: a refund booked before the hold it comes out of would be refused and dropped.
                await DrainStockWork();
            }
            foreach (var refund in unbooked)
            {
                await Book(refund);
            }
            await DrainStockWork();
            await PublishOutbox();
        }
    }

    // ---------------------------------------------------------------- persistence and outbox

    public async Task PaymentTookCancellation(string paymentId)
    {
        var open = S.VoidOpenAttempts.Remove(paymentId);
        if (S.VoidOnCancel == paymentId)
        {
            S.VoidOnCancel = null;
            open = true;
        }
        if (open)
        {
            await Persist();
        }
    }

    /// <summary>
    /// The order is paid: every other attempt still open to the buyer (a bank transfer not yet sent, a 3-D Secure challenge) is
    /// voided at the provider, as on cancellation, or the buyer could pay twice, and with its webhook lost nothing would give the
    /// second payment back. One that completes first is refused by the paid order and refunded in full.
    /// </summary>
    private void CloseOtherAttempts()
    {
        foreach (var attempt in S.Payments)
        {
            var id = attempt.Start.PaymentId;
            if (!attempt.Failed && id != S.PaidBy && id != S.CaptureLock && id != S.VoidOnCancel && !S.VoidOpenAttempts.Contains(id))
            {
                S.VoidOpenAttempts.Add(id);
            }
        }
    }

    /// <summary>
    /// Ends the order before shipment: its stock goes back, a payment held authorized for review is voided, and so is every other
    /// attempt still open (the buyer could otherwise pass its 3-D Secure challenge or send its bank transfer, for money taken only
    /// to be given back).
    /// </summary>
    private void Cancel(DateTimeOffset now, OrderActor actor, string reason)
    {
        if (S.CaptureLock is { } authorized && S.Status == OrderStatus.RiskReview)
        {
            // A held payment is authorized only: release the buyer's money instead of leaving it blocked.
            S.VoidOnCancel = authorized;
            S.CaptureLock = null;
        }
        else if (S.ReviewedPayment is { } captured && S.Status == OrderStatus.RiskReview)
        {
            // Its money was taken: the escrow is voided and refunded below; the payment withdraws its review.
            S.VoidOnCancel = captured;
        }
        S.VoidOpenAttempts.AddRange(S.Payments.Where(p => !p.Failed && p.Start.PaymentId != S.PaidBy && p.Start.PaymentId != S.VoidOnCancel)
            .Select(p => p.Start.PaymentId));
        S.PendingReleases.AddRange(Reservations());
        Transition(OrderStatus.Cancelled, now, "Cancelled", actor, reason);
    }

    private void OpenTicket(DateTimeOffset now, string kind, string description, DateTimeOffset? due = null, StallRemedy? remedy = null) =>
        S.PendingTickets.Add(new ServiceTicket(Ulid.NewUlid(now).ToString(), OrderId, S.Placement!.SellerId, kind, description, now,
            due ?? now + _options.ServiceTicketDue, remedy is { } r ? System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(r.ToString()) : null));

    private void Transition(OrderStatus next, DateTimeOffset now, string @event, OrderActor actor, string? reason)
    {
        // A ticket's exception is over once the order leaves the status that raised it: left open, every late order that shipped
        // stayed on the open list for good, and the list (earliest due first, at most 500) soon showed none of the new ones. A
        // stalled shipment is over when it is delivered or someone ends the order, not when its protection window merely lapses.
        var endedTicket = S.Status switch
        {
            OrderStatus.AwaitingShipment when S.Late => ServiceTicketKinds.LateShipment,
            OrderStatus.Shipped when S.StallReported && (next == OrderStatus.Delivered || actor != OrderActor.System) => ServiceTicketKinds.StalledShipment,
            OrderStatus.RiskReview when S.ReviewOverdue => ServiceTicketKinds.ReviewOverdue,
            _ => null,
        };
        if (endedTicket is not null && next != S.Status)
        {
            S.TicketsToClose.Add(endedTicket);
        }
        CloseTrackingTickets(next, actor);
        if (next == OrderStatus.Closed && S.Dispute is { IsOpen: true } disputed)
        {
            // Closed by a full refund or an admin: the buyer has everything back, so the dispute has nothing left to decide.
            EndDispute(disputed, new DisputeResolution(DisputeOutcome.FullRefund, null, null, reason ?? "the order was closed", actor.ToString(), now));
            Record(now, "DisputeSettled", actor, "the order was closed and everything paid goes back to the buyer");
        }
        if (next == OrderStatus.Closed && S.Return is { IsOpen: true } returning)
        {
            EndReturn(returning, ReturnStatus.Refunded, new ReturnNote(actor.ToString(), now, reason ?? "the order was closed"));
            Record(now, "ReturnEnded", actor, "the order was closed and everything paid goes back to the buyer");
        }
        if (next == OrderStatus.Cancelled)
        {
            // Every way an order is cancelled before shipment (the buyer, a deadline, a rejected review, a full refund) frees its coupon.
            GiveBackCoupon();
        }
        S.Status = next;
        S.Deadlines = next switch
        {
            OrderStatus.RiskReview => S.Deadlines with
            {
                ReviewDueAt = now + _options.ReviewDueAfter,
                ReviewExpiresAt = S.CaptureLock is null ? null : now + _options.ReviewHoldLimit,
            },
            OrderStatus.Shipped => S.Deadlines with { AutoCompleteAt = now + _options.ShippedAutoCompleteAfter },
            _ => S.Deadlines,
        };
        // Money follows the status (R-ROLE-1): paid into escrow, released on completion, voided if the order ends before.
        // An import is paid here too when sent unpaid and paid through this platform (PaidBy, or a payment an admin recorded);
        // one paid on its own platform brings no money here.
        var escrow = next switch
        {
            OrderStatus.Paid when S.Placement!.Source == OrderSource.Checkout || S.PaidBy is not null
                || S.Placement.External is { PaidExternally: false } => EscrowStep.Hold,
            OrderStatus.Completed when S.EscrowState == EscrowStep.Hold => EscrowStep.Release,
            OrderStatus.Cancelled or OrderStatus.Closed when S.EscrowState == EscrowStep.Hold => EscrowStep.Void,
            _ => (EscrowStep?)null,
        };
        if (escrow is { } step)
        {
            S.EscrowState = step;
            S.PendingEscrow.Add(step);
            // What the buyer has not had back (refunds and compensations), so together they never pass what was paid.
            var (refunded, refundedBuyer) = PaidBackSoFar();
            if (step == EscrowStep.Void && S.PaidBy is not null && refunded < S.Totals!.Charged.AmountMinor)
            {
                // The escrow goes back (voided); the buyer gets the rest of the payment back through the provider.
                S.Refunds.Add(new OrderRefundRecord
                {
                    Key = $"{next}:{now.ToUnixTimeMilliseconds()}",
                    RequestHash = "",
                    Booked = true,
                    View = new OrderRefundView(Ulid.NewUlid(now).ToString(), new Money(S.Totals.Charged.AmountMinor - refunded, S.Totals.Charged.Currency),
                        new Money(S.Totals.Buyer.AmountMinor - refundedBuyer, S.Totals.Buyer.Currency), Payments.RefundStatus.Pending,
                        $"order {next.ToString().ToLowerInvariant()}", actor.ToString(), now),
                });
            }
        }
        Record(now, @event, actor, reason);
    }

    private void Record(DateTimeOffset now, string @event, OrderActor actor, string? reason, bool notify = true) =>
        OrderPlacing.Record(S, OrderId, _options, now, @event, actor, reason, notify);

    /// <summary>Writes the new state (the acknowledgement point), then carries out the stock and outbox work it recorded.</summary>
    private async Task Persist()
    {
        S.Version++;
        await WriteOrReload();
        await DrainStockWork();
    }

    private async Task WriteOrReload()
    {
        // The projection and outbox rows commit with the state. If the write fails, the reload drops them together with the
        // change that raised them.
        var outbox = OrderPlacing.TakeOutbox(S, OrderId);
        if (outbox is not null && OrderPlacing.LineFactsDue(S))
        {
            // The write that first stores the order as paid carries its lines' facts (R-DAT-4); a failed write reloads the flag.
            outbox = outbox with { LineFacts = OrderPlacing.LineFacts(S, OrderId, settlementOptions.Value.RateFor) };
            S.LineFactsWritten = true;
        }
        var wake = NextWake(clock.GetUtcNow());
        var broughtForward = HasOutboxWork();
        S.CarryWithNextWrite(wake, outbox);
        _indexedWakeKnown = false;
        try
        {
            await state.WriteOrReloadAsync(this);
            (_indexedWake, _indexedWakeKnown) = (wake, broughtForward);
        }
        catch
        {
            _prepared = null;
            throw;
        }
        finally
        {
            state.State.CarryWithNextWrite(null, null);
        }
    }

    private bool HasOutboxWork() => OrderPlacing.HasOutboxWork(S);

    private async Task DrainStockWork()
    {
        try
        {
            await Task.WhenAll(S.PendingReleases.Select(r => GrainFactory.GetGrain<ISkuGrain>(r.SkuId).ReleaseReservation(r.ReservationId)));
            S.PendingReleases.Clear();
            await Task.WhenAll(S.PendingCommits.Select(r => GrainFactory.GetGrain<ISkuGrain>(r.SkuId).CommitReservation(r.ReservationId)));
            S.PendingCommits.Clear();
            if (S.Coupon is { Redemption: CouponRedemptionState.GivingBack } givingBack)
            {
                await GrainFactory.GetGrain<ISellerCouponsGrain>(S.Placement!.SellerId).GiveBack(OrderId);
                S.Coupon = givingBack with { Redemption = CouponRedemptionState.GivenBack };
            }
            var ledger = GrainFactory.GetGrain<Wallets.ISellerLedgerGrain>(S.Placement!.SellerId);
            while (S.PendingEscrow.Count > 0)
            {
                await (S.PendingEscrow[0] switch
                {
                    EscrowStep.Hold => ledger.HoldInEscrow(OrderId, S.Totals!.Charged),
                    EscrowStep.Release => ledger.ReleaseEscrow(EscrowRelease()),
                    _ => ledger.VoidEscrow(OrderId),
                });
                S.PendingEscrow.RemoveAt(0);
            }
            if (S.VoidOnCancel is { } held)
            {
                // One-way, and repeated on every retry until the payment confirms (PaymentTookCancellation): a payment capturing
                // or voiding reports to this order and waits, so waiting here for the payment stalled both until their time-out.
                await GrainFactory.GetGrain<Payments.IPaymentGrain>(held).OrderCancelledBy(OrderId,
                    $"the order was cancelled during its risk review: {S.Timeline.LastOrDefault(e => e.Event == "Cancelled")?.Reason ?? "cancelled"}");
            }
            // The same for attempts still open when the order was cancelled: each voids itself at the provider if it still can.
            foreach (var open in S.VoidOpenAttempts.ToArray())
            {
                await GrainFactory.GetGrain<Payments.IPaymentGrain>(open).OrderCancelledBy(OrderId, S.Status == OrderStatus.Cancelled
                    ? $"the order was cancelled: {S.Timeline.LastOrDefault(e => e.Event == "Cancelled")?.Reason ?? "cancelled"}"
                    : $"the order takes no other payment: it was paid {(S.PaidBy is { } by ? $"by payment {by}" : "outside the platform's provider")}");
            }
            // One-way, repeated on every retry until the payment reports the refund settled (it deduplicates by refund id).
            foreach (var refund in S.Refunds.Where(r => r.Booked && r.View.Status == Payments.RefundStatus.Pending))
            {
                await GrainFactory.GetGrain<Payments.IPaymentGrain>(S.PaidBy!)
                    .RequestRefund(new Payments.PaymentRefundOrder(refund.View.RefundId, refund.View.BuyerAmount, refund.View.Reason));
            }
            if (ReturnToRestock is { } returned)
            {
                await RestockReturn(returned);
            }
            // The cleared lists are persisted with the next write; repeating the calls after a crash is harmless. The write
            // indexed this order to wake soon in case these calls were cut off; they are done, so its next real deadline instead.
            if (_indexedWakeKnown && !HasOutboxWork() && NextWake(clock.GetUtcNow()) is var next && next != _indexedWake)
            {
                wakes.Move(StateName, this.GetGrainId(), state.Etag, next);
                _indexedWake = next;
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Stock work of order {OrderId} failed; will retry", OrderId);
            ScheduleOutboxRetry();
        }
    }

    /// <summary>
    /// Order rows and notifications normally commit with the write that raised them; a state stored by an earlier version may
    /// still hold some, and its next write carries them.
    /// </summary>
    private async Task PublishOutbox()
    {
        if (S.Phase != OrderPhase.Live || (!S.ProjectionPending && S.PendingNotifications.Count == 0 && S.PendingTickets.Count == 0))
        {
            return;
        }
        try
        {
            await WriteOrReload();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Projection of order {OrderId} failed; will retry", OrderId);
            ScheduleOutboxRetry();
        }
    }

    private void ScheduleOutboxRetry()
    {
        _outboxRetry ??= this.RegisterGrainTimer(static async (grain, _) =>
        {
            await grain.DrainStockWork();
            await grain.PublishOutbox();
            if (!grain.HasOutboxWork())
            {
                grain._outboxRetry?.Dispose();
                grain._outboxRetry = null;
            }
        }, this, new GrainTimerCreationOptions { DueTime = OutboxRetryPeriod, Period = OutboxRetryPeriod, Interleave = false });
    }

    /// <summary>The split of the whole order total (R-SET-1): commission per line at its category's rate, the logistics fee, the rest to the seller.</summary>
    private Wallets.EscrowRelease EscrowRelease()
    {
        var totals = S.Totals!;
        var goods = totals.Seller;
        var settings = settlementOptions.Value;
        var logistics = new Money((long)Math.Round(goods.AmountMinor * (decimal)settings.LogisticsFeeBps / Wallets.SettlementSplit.MaxRateBps, MidpointRounding.AwayFromZero), goods.Currency);
        // Commission is on what each line was paid (after its share of a coupon): the seller funds its coupons, the platform's cut shrinks with them.
        var legs = Wallets.SettlementSplit.Split(totals.Charged, S.Lines.Select((l, i) => (OrderPlacing.PaidLineValue(S, i), settings.RateFor(l.Category))), logistics,
            totals.Tax ?? new Money(0, goods.Currency));
        var held = totals.Charged.AmountMinor - RefundedSoFar().Seller;
        if (held == totals.Charged.AmountMinor)
        {
            return new Wallets.EscrowRelease(OrderId, legs.Commission, legs.LogisticsFee, legs.TaxPayable, totals.TaxCountry, legs.SellerNet);
        }
        // After partial refunds the escrow holds less: every leg shrinks in proportion (rounded down), the seller takes the rest.
        Money Scaled(Money leg) => new((long)Math.Floor(leg.AmountMinor * (decimal)held / totals.Charged.AmountMinor), leg.Currency);
        var commission = Scaled(legs.Commission);
        var logisticsFee = Scaled(legs.LogisticsFee);
        var tax = Scaled(legs.TaxPayable);
        return new Wallets.EscrowRelease(OrderId, commission, logisticsFee, tax, totals.TaxCountry,
            new Money(held - commission.AmountMinor - logisticsFee.AmountMinor - tax.AmountMinor, goods.Currency));
    }

    private OrderView View() => OrderPlacing.View(S, OrderId);
}
