using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Orders;

public sealed class OrderGrain(
    [PersistentState(stateName: "order", storageName: StorageNames.Trade)] IPersistentState<OrderState> state,
    IOrderProjectionSink projection,
    IFxRates fxRates,
    IOptions<OrderOptions> orderOptions,
    RegionMap regions,
    IOptions<Wallets.SettlementOptions> settlementOptions,
    TradeClock clock,
    ILogger<OrderGrain> logger) : Grain, IOrderGrain, IRemindable
{
    private const string DeadlineReminder = "deadlines";
    private static readonly TimeSpan OutboxRetryPeriod = TimeSpan.FromSeconds(5);
    private readonly OrderOptions _options = orderOptions.Value;
    private IGrainTimer? _outboxRetry;
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
                // Registered before any stock is held: if the checkout dies half-way, this reminder releases the stock.
                await this.RegisterOrUpdateReminder(DeadlineReminder, _options.DeadlineCheckPeriod, _options.DeadlineCheckPeriod);
                await WriteOrReload();
                break;
        }
        _prepared = await ReserveAll();
        return _prepared;
    }

    public async Task<OrderView?> Confirm()
    {
        if (S.Phase == OrderPhase.Live)
        {
            return View();
        }
        if (S.Phase == OrderPhase.Aborted)
        {
            return null;
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
        S.Phase = OrderPhase.Live;
        S.Status = OrderStatus.AwaitingPayment;
        S.Deadlines = new OrderDeadlines(now + _options.PaymentWindow, null, null);
        Record(now, "Placed", new OrderActor(placement.Actor, null), placement.Source == OrderSource.Import
            ? $"imported from {placement.External!.Platform} order {placement.External.ExternalOrderId}"
            : null);
        if (placement.External is { PaidExternally: true })
        {
            ApplyPaymentConfirmed(now, OrderActor.System, $"paid on {placement.External.Platform}");
        }
        await Persist();
        return View();
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
        S.UpdatedAt = clock.GetUtcNow();
        await WriteOrReload();
        await DrainStockWork();
        await StopDeadlines();
    }

    private IEnumerable<HeldReservation> Reservations() =>
        S.Placement!.Lines.Select((line, i) => new HeldReservation(line.SkuId, $"{OrderId}:{i}"));

    /// <summary>Reserves every line (idempotent per reservation id) and builds the priced lines and totals.</summary>
    private async Task<PrepareResult> ReserveAll()
    {
        var placement = S.Placement!;
        var warehouses = await GrainFactory.GetGrain<IWarehouseRegistryGrain>(WarehouseRegistry.Key).List();
        var ranked = WarehouseRanking.Rank(placement.ShipTo.Country, warehouses.Select(w => (w.WarehouseId, w.Country)), regions);
        var reservations = Reservations().ToArray();
        var results = await Task.WhenAll(placement.Lines.Select((line, i) =>
            GrainFactory.GetGrain<ISkuGrain>(line.SkuId).Reserve(new StockReservationRequest(reservations[i].ReservationId, line.Quantity, ranked))));

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

        S.Lines = placement.Lines.Select((line, i) =>
        {
            var price = results[i].Catalog!.Price;
            return new OrderLine(line.SkuId, results[i].Catalog!.Title, line.Quantity, price,
                new Money(checked(price.AmountMinor * line.Quantity), price.Currency), results[i].Allocation, results[i].Catalog!.Category);
        }).ToList();
        S.HandlingDays = results.Max(r => r.Catalog!.HandlingTimeDays ?? _options.DefaultHandlingDays);
        var sellerCurrency = S.Lines[0].UnitPrice.Currency;
        var sellerTotal = new Money(S.Lines.Sum(l => l.LineTotal.AmountMinor), sellerCurrency);
        if (!fxRates.TryGetRate(sellerCurrency, placement.BuyerCurrency, out var rate, out var rateAt))
        {
            return new PrepareResult(PrepareStatus.Refused, [], $"No exchange rate from {sellerCurrency} to {placement.BuyerCurrency}.");
        }
        // R-SET-2: EU consignments up to EUR 150 pay destination VAT at checkout (IOSS); others pay at import.
        var tax = fxRates.TryGetRate(sellerCurrency, "EUR", out var eurRate, out _)
            ? Payments.IossVat.For(placement.ShipTo.Country, sellerTotal, eurRate)
            : null;
        var charged = new Money(sellerTotal.AmountMinor + (tax?.AmountMinor ?? 0), sellerCurrency);
        S.Totals = new OrderTotals(sellerTotal, CurrencyConversion.Convert(charged, placement.BuyerCurrency, rate), rate, rateAt,
            tax, tax is null ? null : placement.ShipTo.Country);
        S.ReviewReason = fxRates.TryGetRate(sellerCurrency, "USD", out var usdRate, out _)
            && CurrencyConversion.Convert(sellerTotal, "USD", usdRate).AmountMinor > _options.RiskReviewAboveUsdMinor
                ? $"order value above {_options.RiskReviewAboveUsdMinor / 100m:0.00} USD"
                : null;
        return new PrepareResult(PrepareStatus.Prepared, [], null);
    }

    // ---------------------------------------------------------------- lifecycle

    public Task<OrderView?> Get() => Task.FromResult(S.Phase == OrderPhase.Live ? View() : null);

    public Task<IReadOnlyList<TimelineEntry>> GetTimeline() =>
        Task.FromResult<IReadOnlyList<TimelineEntry>>(S.Phase == OrderPhase.Live ? S.Timeline.ToArray() : []);

    public async Task<TransitionResult> Apply(OrderCommand command)
    {
        if (S.Phase != OrderPhase.Live)
        {
            return new TransitionResult(TransitionStatus.NotFound, null, $"Order {OrderId} does not exist.");
        }
        if (!OrderPermissions.MayApply(command.Actor, command.Action, S.Placement!.BuyerId, S.Placement.SellerId, S.Status))
        {
            return new TransitionResult(TransitionStatus.Forbidden, null, $"{command.Actor.Role} may not {command.Action} order {OrderId}.");
        }
        if (!OrderTransitions.TryApply(S.Status, command.Action, out var next))
        {
            return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                $"Order {OrderId} is {S.Status}; {command.Action} is allowed only in: {string.Join(", ", StatusesAllowing(command.Action))}.");
        }
        var now = clock.GetUtcNow();
        switch (command.Action)
        {
            case OrderAction.ConfirmPayment:
                ApplyPaymentConfirmed(now, command.Actor, command.Reason);
                break;
            case OrderAction.ApproveReview:
                Transition(next, now, "ReviewApproved", command.Actor, command.Reason);
                S.Deadlines = S.Deadlines with { ShipBy = now.AddDays(S.HandlingDays) };
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
                break;
            case OrderAction.RecordDelivery:
                S.Deadlines = S.Deadlines with { AutoCompleteAt = now + _options.AutoCompleteAfter };
                Transition(next, now, "Delivered", command.Actor, command.Reason);
                break;
            case OrderAction.Cancel:
                S.PendingReleases.AddRange(Reservations());
                Transition(next, now, "Cancelled", command.Actor, command.Reason ?? "cancelled");
                break;
            default:
                Transition(next, now, next.ToString(), command.Actor, command.Reason);
                break;
        }
        await Persist();
        return new TransitionResult(TransitionStatus.Applied, View(), null);
    }

    /// <summary>Paid, then straight on to the seller or held for review (R-ORD-3), in one step.</summary>
    private void ApplyPaymentConfirmed(DateTimeOffset now, OrderActor actor, string? reason)
    {
        Transition(OrderStatus.Paid, now, "Paid", actor, reason);
        if (S.ReviewReason is not null)
        {
            Transition(OrderStatus.RiskReview, now, "HeldForReview", OrderActor.System, S.ReviewReason);
        }
        else
        {
            Transition(OrderStatus.AwaitingShipment, now, "ReleasedToSeller", OrderActor.System, null);
            S.Deadlines = S.Deadlines with { ShipBy = now.AddDays(S.HandlingDays) };
        }
    }

    private static IEnumerable<OrderStatus> StatusesAllowing(OrderAction action) =>
        Enum.GetValues<OrderStatus>().Where(s => OrderTransitions.Allowed(s).Contains(action));

    // ---------------------------------------------------------------- deadlines

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == DeadlineReminder)
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
            case OrderPhase.New or OrderPhase.Aborted:
                await StopDeadlines();
                return;
        }
        if (S.Status == OrderStatus.AwaitingPayment && now >= S.Deadlines.PaymentDueAt)
        {
            S.PendingReleases.AddRange(Reservations());
            Transition(OrderStatus.Cancelled, now, "Cancelled", OrderActor.System, "payment deadline passed");
            await Persist();
        }
        else if (S.Status == OrderStatus.AwaitingShipment && !S.Late && now >= S.Deadlines.ShipBy)
        {
            S.Late = true;
            Record(now, "MarkedLate", OrderActor.System, $"not shipped within {S.HandlingDays} days");
            S.PendingTickets.Add(new ServiceTicket(Ulid.NewUlid(now).ToString(), OrderId, S.Placement!.SellerId, "LateShipment",
                $"Order {OrderId} was not shipped by {S.Deadlines.ShipBy:u}.", now, now + _options.ServiceTicketDue));
            await Persist();
        }
        else if (S.Status == OrderStatus.Delivered && now >= S.Deadlines.AutoCompleteAt)
        {
            Transition(OrderStatus.Completed, now, "Completed", OrderActor.System, "protection window lapsed without a buyer action");
            await Persist();
        }
        else if (HasOutboxWork())
        {
            await DrainStockWork();
            await PublishOutbox();
        }
    }

    private async Task StopDeadlines()
    {
        if (await this.GetReminder(DeadlineReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    // ---------------------------------------------------------------- persistence and outbox

    private void Transition(OrderStatus next, DateTimeOffset now, string @event, OrderActor actor, string? reason)
    {
        S.Status = next;
        // Money follows the status (R-ROLE-1): paid into escrow, released on completion, voided if the order ends before.
        var escrow = next switch
        {
            OrderStatus.Paid when S.Placement!.Source == OrderSource.Checkout => EscrowStep.Hold,
            OrderStatus.Completed when S.EscrowState == EscrowStep.Hold => EscrowStep.Release,
            OrderStatus.Cancelled or OrderStatus.Closed when S.EscrowState == EscrowStep.Hold => EscrowStep.Void,
            _ => (EscrowStep?)null,
        };
        if (escrow is { } step)
        {
            S.EscrowState = step;
            S.PendingEscrow.Add(step);
        }
        Record(now, @event, actor, reason);
    }

    private void Record(DateTimeOffset now, string @event, OrderActor actor, string? reason)
    {
        S.Timeline.Add(new TimelineEntry(now, @event, S.Status, actor.ToString(), reason));
        if (S.Timeline.Count > _options.MaxTimelineEntries)
        {
            S.Timeline.RemoveAt(1); // keep the first entry (placement); drop the oldest after it
        }
        foreach (var channel in _options.NotificationChannels)
        {
            S.PendingNotifications.Add(new OrderNotification(Ulid.NewUlid(now).ToString(), OrderId, S.Placement!.BuyerId, channel, @event, S.Status, now));
        }
        S.UpdatedAt = now;
        S.ProjectionPending = true;
    }

    /// <summary>Writes the new state (the acknowledgement point), then carries out the stock and outbox work it recorded.</summary>
    private async Task Persist()
    {
        S.Version++;
        await WriteOrReload();
        await DrainStockWork();
        await PublishOutbox();
        if (S.Status is OrderStatus.Completed or OrderStatus.Cancelled or OrderStatus.Closed && !HasOutboxWork())
        {
            await StopDeadlines();
        }
    }

    private async Task WriteOrReload()
    {
        try
        {
            await state.WriteOrReloadAsync();
        }
        catch
        {
            _prepared = null;
            throw;
        }
    }

    private bool HasOutboxWork() =>
        S.PendingEscrow.Count > 0 || S.PendingReleases.Count > 0 || S.PendingCommits.Count > 0 || S.ProjectionPending || S.PendingNotifications.Count > 0 || S.PendingTickets.Count > 0;

    private async Task DrainStockWork()
    {
        try
        {
            await Task.WhenAll(S.PendingReleases.Select(r => GrainFactory.GetGrain<ISkuGrain>(r.SkuId).ReleaseReservation(r.ReservationId)));
            S.PendingReleases.Clear();
            await Task.WhenAll(S.PendingCommits.Select(r => GrainFactory.GetGrain<ISkuGrain>(r.SkuId).CommitReservation(r.ReservationId)));
            S.PendingCommits.Clear();
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
            // The cleared lists are persisted with the next write; repeating the calls after a crash is harmless.
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Stock work of order {OrderId} failed; will retry", OrderId);
            ScheduleOutboxRetry();
        }
    }

    private async Task PublishOutbox()
    {
        if (S.Phase != OrderPhase.Live || (!S.ProjectionPending && S.PendingNotifications.Count == 0 && S.PendingTickets.Count == 0))
        {
            return;
        }
        var notifications = S.PendingNotifications.ToArray();
        var tickets = S.PendingTickets.ToArray();
        try
        {
            await projection.RecordAsync(Summary(), notifications, tickets, CancellationToken.None);
            S.PendingNotifications.RemoveRange(0, notifications.Length);
            S.PendingTickets.RemoveRange(0, tickets.Length);
            S.ProjectionPending = false;
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
        var legs = Wallets.SettlementSplit.Split(totals.Charged, S.Lines.Select(l => (l.LineTotal.AmountMinor, settings.RateFor(l.Category))), logistics,
            totals.Tax ?? new Money(0, goods.Currency));
        return new Wallets.EscrowRelease(OrderId, legs.Commission, legs.LogisticsFee, legs.TaxPayable, totals.TaxCountry, legs.SellerNet);
    }

    private OrderSummary Summary() => new(OrderId, S.Placement!.BuyerId, S.Placement.SellerId, S.Status, S.Totals!.Seller, S.Totals.Buyer,
        S.Lines.Count, S.Placement.Source, S.Late, S.CreatedAt, S.UpdatedAt, S.Version);

    private OrderView View() => new(OrderId, S.Placement!.BuyerId, S.Placement.SellerId, S.Status, S.Lines.ToArray(), S.Totals!,
        S.Placement.ShipTo, S.Shipment, S.Deadlines, S.Accepted, S.Late, S.ReviewReason, S.Placement.Source, S.Placement.External,
        S.Placement.CheckoutId, S.CreatedAt, S.UpdatedAt, S.Version);
}
