using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Orders;

/// <summary>
/// The pure steps that turn reserved stock into a live order, and what an order write carries. Shared by the order grain (the
/// checkout saga, imports) and a SKU that places a one-line checkout in its own write (<see cref="SkuPlacedOrders"/>): an order
/// stored either way is the same order.
/// </summary>
public static class OrderPlacing
{
    /// <summary>
    /// Prices the placement's lines from their reservations (one result per line, all reserved) and fills lines, handling days,
    /// totals (FX rate locked, R-PAY-2; IOSS VAT, R-SET-2) and the review reason (R-ORD-3). Returns why it cannot, or null.
    /// </summary>
    /// <param name="templates">The shipping templates the lines' SKUs name, by id (null when none names one).</param>
    public static string? Price(OrderState s, IReadOnlyList<StockReservationResult> results, IFxRates fxRates, OrderOptions options,
        IReadOnlyDictionary<string, Logistics.ShippingTemplate>? templates = null)
    {
        try
        {
            return PriceOrRefuse(s, results, fxRates, options, templates);
        }
        catch (OverflowException)
        {
            // Catalog prices and quantities each have a bound, but a line of the dearest item, converted into a currency of many
            // units to the dollar, can pass what a 64-bit amount of minor units holds. Refused like a missing rate: the caller
            // gives the units back.
            return "The order's total is too large to be priced and charged in minor units of these currencies.";
        }
    }

    private static string? PriceOrRefuse(OrderState s, IReadOnlyList<StockReservationResult> results, IFxRates fxRates, OrderOptions options,
        IReadOnlyDictionary<string, Logistics.ShippingTemplate>? templates)
    {
        var placement = s.Placement!;
        var lines = new List<OrderLine>(placement.Lines.Count);
        for (var i = 0; i < placement.Lines.Count; i++)
        {
            var line = placement.Lines[i];
            var catalog = results[i].Catalog!;
            lines.Add(new OrderLine(line.SkuId, catalog.Title, line.Quantity, catalog.Price,
                new Money(checked(catalog.Price.AmountMinor * line.Quantity), catalog.Price.Currency), results[i].Allocation, catalog.Category,
                catalog.UnitCost is { } cost && cost.Currency == catalog.Price.Currency ? cost : null));
        }
        s.Lines = lines;
        s.HandlingDays = results.Max(r => r.Catalog!.HandlingTimeDays ?? options.DefaultHandlingDays);
        var sellerCurrency = lines[0].UnitPrice.Currency;
        // A seller's coupon comes off the goods, shared by the lines in proportion to their value; what is left is what the buyer
        // pays for the goods, and shipping thresholds, VAT (IOSS: the price actually paid), escrow and refunds are counted on it.
        var listGoods = lines.Sum(l => l.LineTotal.AmountMinor);
        if (s.Coupon is { } coupon)
        {
            // A coupon of chosen SKUs or categories is shared by the lines it applies to only.
            var eligible = coupon.EligibleLines is { } mask && mask.Count == lines.Count ? mask : null;
            var shared = lines.Select((l, i) => eligible is null || eligible[i] ? l.LineTotal.AmountMinor : 0).ToArray();
            if (coupon.Discount.Currency != sellerCurrency || coupon.Discount.AmountMinor > shared.Sum()
                || (coupon.EligibleLines is not null && eligible is null))
            {
                return $"Coupon '{coupon.Code}' cannot be applied to these goods.";
            }
            s.Coupon = coupon with { LineDiscounts = CouponRules.Allocate(shared, coupon.Discount.AmountMinor) };
        }
        var sellerTotal = new Money(listGoods - (s.Coupon?.Discount.AmountMinor ?? 0), sellerCurrency);
        if (ShippingFee(placement, results, lines, s.Coupon, templates, s.CreatedAt, sellerCurrency, out var shipping, out var waivable) is { } unshippable)
        {
            return unshippable;
        }
        if (s.Coupon is { FreeShipping: true, Discount.AmountMinor: 0 } nothingOff && waivable == 0)
        {
            // A free-shipping coupon on goods that already ship free gives nothing: refused, so it does not count as used (the
            // caller gives its redemption back) and the buyer keeps it for an order it helps.
            return $"Coupon '{nothingOff.Code}' waives shipping, and the shipping of the goods it applies to in this order is already free: " +
                "the coupon would give nothing. Check out without it to keep it for another order.";
        }
        if (s.Coupon is { FreeShipping: true } freeShipping && waivable > 0)
        {
            // The seller funds it, as it funds a discount: the buyer pays no shipping for the parcels of the goods it applies to, and
            // no VAT on it; a parcel of other goods only is still paid.
            s.Coupon = freeShipping with { ShippingWaived = new Money(waivable, sellerCurrency) };
            shipping = new Money(shipping!.AmountMinor - waivable, sellerCurrency);
        }
        if (!fxRates.TryGetRate(sellerCurrency, placement.BuyerCurrency, out var rate, out var rateAt))
        {
            return $"No exchange rate from {sellerCurrency} to {placement.BuyerCurrency}.";
        }
        if (sellerCurrency != placement.BuyerCurrency && fxRates.FromRateTable && options.FxRateMaxAge is { } maxAge && maxAge > TimeSpan.Zero
            && s.CreatedAt - rateAt > maxAge)
        {
            return $"The exchange rate from {sellerCurrency} to {placement.BuyerCurrency} is as of {rateAt:u}, older than the " +
                $"{maxAge.TotalHours:0.#} hours a price may be quoted from; pay in {sellerCurrency} or retry once the rate table is updated.";
        }
        // R-SET-2: EU consignments up to EUR 150 pay destination VAT at checkout (IOSS); others pay at import. Without a euro rate
        // the threshold cannot be checked: refused, not let through untaxed.
        var vatRates = options.VatRatesInForce();
        var vatCountry = Payments.IossVat.VatCountry(placement.ShipTo.Country);
        Money? tax = null;
        if (vatRates.ContainsKey(vatCountry) && !Payments.IossVat.OutsideVatArea(vatCountry, placement.ShipTo.PostalCode))
        {
            if (!fxRates.TryGetRate(sellerCurrency, "EUR", out var eurRate, out _))
            {
                return $"No exchange rate from {sellerCurrency} to EUR, needed for the EU import VAT (IOSS) of a consignment to {placement.ShipTo.Country}.";
            }
            tax = Payments.IossVat.For(vatCountry, sellerTotal, eurRate, vatRates, placement.ShipTo.PostalCode, shipping?.AmountMinor ?? 0);
        }
        // R-ORD-3: the review threshold is in dollars; without a rate a large order would skip the review.
        if (!fxRates.TryGetRate(sellerCurrency, "USD", out var usdRate, out _))
        {
            return $"No exchange rate from {sellerCurrency} to USD, needed to check the order's value for a risk review.";
        }
        var charged = new Money(checked(sellerTotal.AmountMinor + (shipping?.AmountMinor ?? 0) + (tax?.AmountMinor ?? 0)), sellerCurrency);
        var buyerTotal = CurrencyConversion.Convert(charged, placement.BuyerCurrency, rate);
        if (buyerTotal.AmountMinor <= 0)
        {
            // R-PAY-2: a total that rounds to nothing in the buyer's currency cannot be charged (providers take 1 minor unit and up):
            // placed, the order could never be paid and held its stock until its payment window closed.
            return $"The order's total of {charged.AmountMinor} {sellerCurrency} (minor units) is less than the smallest amount of " +
                $"{placement.BuyerCurrency} that can be charged; pay in {sellerCurrency} or buy more.";
        }
        s.Totals = new OrderTotals(sellerTotal, buyerTotal, rate, rateAt, tax, tax is null ? null : vatCountry, shipping, s.Coupon?.Discount);
        s.ReviewReason = CurrencyConversion.Convert(sellerTotal, "USD", usdRate).AmountMinor > options.RiskReviewAboveUsdMinor
                ? $"order value above {options.RiskReviewAboveUsdMinor / 100m:0.00} USD"
                : null;
        return null;
    }

    /// <summary>
    /// The shipping of the order's lines (R-LOG-1): one parcel per shipping template, weighed and valued over the lines whose SKUs
    /// name it, priced by the template for the ship-to country at the placement's time; null (no fee) when no SKU names one, and
    /// for an import (the other marketplace charged its buyer its own shipping, wherever our templates ship).
    /// Returns why the goods cannot ship there, or null.
    /// </summary>
    private static string? ShippingFee(OrderPlacement placement, IReadOnlyList<StockReservationResult> results, List<OrderLine> lines,
        OrderCoupon? coupon, IReadOnlyDictionary<string, Logistics.ShippingTemplate>? templates, DateTimeOffset at, string currency, out Money? fee,
        out long waivable)
    {
        fee = null;
        waivable = 0;
        if (placement.Source == OrderSource.Import)
        {
            return null;
        }
        long total = 0;
        // A free-shipping coupon of chosen goods waives the parcels holding at least one of them (a coupon of all goods: every parcel).
        var eligible = coupon is { FreeShipping: true } ? coupon.EligibleLines : null;
        for (var i = 0; i < results.Count; i++)
        {
            if (results[i].Catalog!.ShippingTemplateId is not { } templateId || IndexOfTemplate(results, templateId) < i)
            {
                continue; // no template, or its parcel was priced with the first line naming it
            }
            if (templates is null || !templates.TryGetValue(templateId, out var template) || template.Currency != currency)
            {
                return $"The shipping of SKU '{lines[i].SkuId}' cannot be priced: its shipping template '{templateId}' is not in {currency} or could not be read. Retry, or ask the seller.";
            }
            long weight = 0, goods = 0;
            var holdsEligible = false;
            for (var j = i; j < results.Count; j++)
            {
                if (results[j].Catalog!.ShippingTemplateId == templateId)
                {
                    weight = checked(weight + (long)results[j].Catalog!.WeightGrams * lines[j].Quantity);
                    goods = checked(goods + lines[j].LineTotal.AmountMinor - (coupon?.LineDiscount(j) ?? 0)); // what is paid for them
                    holdsEligible |= eligible is null || (j < eligible.Count && eligible[j]);
                }
            }
            var quote = Logistics.ShippingRules.Quote(template, placement.ShipTo.Country, weight, goods, at);
            if (quote.Refusal is { } refusal)
            {
                return $"SKU '{lines[i].SkuId}' cannot be shipped: the parcel {refusal}.";
            }
            total = checked(total + quote.Fee!.AmountMinor);
            fee = new Money(total, currency);
            if (coupon is { FreeShipping: true } && holdsEligible)
            {
                waivable += quote.Fee.AmountMinor;
            }
        }
        return null;
    }

    private static int IndexOfTemplate(IReadOnlyList<StockReservationResult> results, string templateId)
    {
        for (var i = 0; i < results.Count; i++)
        {
            if (results[i].Catalog!.ShippingTemplateId == templateId)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>A priced placement goes live: awaiting payment until the payment window closes, "Placed" on its timeline.</summary>
    public static void GoLive(OrderState s, string orderId, DateTimeOffset now, OrderOptions options)
    {
        var placement = s.Placement!;
        s.Phase = OrderPhase.Live;
        s.Status = OrderStatus.AwaitingPayment;
        s.Deadlines = new OrderDeadlines(now + options.PaymentWindow, null, null);
        Record(s, orderId, options, now, "Placed", new OrderActor(placement.Actor, null), placement.Source == OrderSource.Import
            ? $"imported from {placement.External!.Platform} order {placement.External.ExternalOrderId}"
            : null);
    }

    /// <summary>
    /// A timeline entry; one that changes the status (<paramref name="notify"/>) is also announced to the buyer (R-ORD-5) and
    /// makes the order list row stale.
    /// </summary>
    public static void Record(OrderState s, string orderId, OrderOptions options, DateTimeOffset now, string @event, OrderActor actor,
        string? reason, bool notify = true)
    {
        s.Timeline.Add(new TimelineEntry(now, @event, s.Status, actor.ToString(), reason));
        if (s.Timeline.Count > options.MaxTimelineEntries)
        {
            s.Timeline.RemoveAt(1); // keep the first entry (placement); drop the oldest after it
        }
        if (!notify)
        {
            // A quiet entry (a payment step): the status is unchanged, so neither the buyer nor the order list needs to hear of it.
            s.UpdatedAt = now;
            return;
        }
        if (options.NotificationChannels.Length > 0)
        {
            s.PendingNotifications.Add(new OrderNotification(NotificationId(s, now), orderId, s.Placement!.Owner,
                string.Join(',', options.NotificationChannels), @event, s.Status, now));
        }
        s.UpdatedAt = now;
        s.ProjectionPending = true;
    }

    /// <summary>
    /// A new notification's id, after the one written before it in the same write: receivers put an order's notifications in order
    /// by id. A ULID's random part is not ordered within a millisecond, so two written together (paid, then released to the
    /// seller) came in either order, and a receiver showing the latest status could stay on the first.
    /// </summary>
    private static string NotificationId(OrderState s, DateTimeOffset now)
    {
        var id = Ulid.NewUlid(now);
        if (s.PendingNotifications.Count > 0 && Ulid.TryParse(s.PendingNotifications[^1].NotificationId, out var last) && id.CompareTo(last) <= 0)
        {
            // The one before, plus one (its 128 bits as a big-endian number).
            Span<byte> bytes = stackalloc byte[16];
            last.TryWriteBytes(bytes);
            for (var i = 15; i >= 0 && ++bytes[i] == 0; i--)
            {
            }
            id = new Ulid(bytes);
        }
        return id.ToString();
    }

    /// <summary>
    /// When an order paid (or approved) at <paramref name="now"/> must ship: its handling days on, or for pre-sold units the end
    /// of their promised ship date if that is later (R-INV-5: pre-orders ship when the goods arrive, by the date promised).
    /// </summary>
    public static DateTimeOffset ShipBy(OrderState s, DateTimeOffset now)
    {
        var byHandling = now.AddDays(s.HandlingDays);
        var promised = s.Lines.SelectMany(l => l.Allocation).Select(part => part.PromisedShipDate).Max();
        if (promised is not { } date)
        {
            return byHandling;
        }
        // The API takes any future date: the end of 9999-12-31 is past DateOnly's range, so that day ends at its last microsecond
        // (what PostgreSQL stores of a time).
        var endOfPromisedDay = date == DateOnly.MaxValue
            ? new DateTimeOffset(date.ToDateTime(new TimeOnly(23, 59, 59, 999, 999)), TimeSpan.Zero)
            : new DateTimeOffset(date.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return endOfPromisedDay > byHandling ? endOfPromisedDay : byHandling;
    }

    /// <summary>
    /// Checks a payment attempt on a live order and, when it is new and allowed, records it in the state (R-PAY-1, R-PAY-3; the
    /// caller writes it): its start, with the risk event its scoring needs, and a quiet "PaymentStarted" entry.
    /// </summary>
    public static PaymentRegistration RegisterPayment(OrderState s, string orderId, PaymentRegistrationRequest request, DateTimeOffset now,
        IFxRates fxRates, Payments.PaymentOptions options, OrderOptions orderOptions)
    {
        if (s.Phase != OrderPhase.Live)
        {
            return new PaymentRegistration(PaymentRegistrationStatus.NotFound, null, $"Order {orderId} does not exist.");
        }
        if (!OrderPermissions.MayPay(request.Actor, s.Placement!.Owner))
        {
            return new PaymentRegistration(PaymentRegistrationStatus.Forbidden, null, $"{request.Actor} may not pay order {orderId}.");
        }
        if (s.Payments.Find(p => p.Key == request.Key) is { } existing)
        {
            return existing.RequestHash == request.RequestHash
                ? new PaymentRegistration(PaymentRegistrationStatus.Existing, existing.Start, null, s.Status)
                : new PaymentRegistration(PaymentRegistrationStatus.KeyReused, null,
                    "This Idempotency-Key was used with a different payment request; use a new key for a new attempt.");
        }
        if (s.Status != OrderStatus.AwaitingPayment || s.CaptureLock is not null)
        {
            return new PaymentRegistration(PaymentRegistrationStatus.NotPayable, null, s.Status == OrderStatus.AwaitingPayment
                ? $"Order {orderId} is being paid by payment {s.CaptureLock}."
                : $"Order {orderId} is {s.Status}; only an order awaiting payment can be paid.", s.Status);
        }
        if (s.Deadlines.PaymentDueAt is { } closed && now >= closed)
        {
            // Past its payment window the order is cancelled at the deadline sweeper's next pass; a payment (a bank transfer's
            // new pay-by time above all) must not bring it back.
            return new PaymentRegistration(PaymentRegistrationStatus.NotPayable, null,
                $"Order {orderId}'s payment window closed at {closed:u}; the order is being cancelled and its stock released.", s.Status);
        }
        if (s.Payments.Count >= options.MaxAttemptsPerOrder)
        {
            return new PaymentRegistration(PaymentRegistrationStatus.NotPayable, null,
                $"Order {orderId} has had {s.Payments.Count} payment attempts, the most allowed.", s.Status);
        }
        var amount = s.Totals!.Buyer;
        IReadOnlyList<Payments.Instalment>? schedule = null;
        if (request.Instrument.Type == Payments.PaymentMethodType.Instalments)
        {
            var count = request.Instrument.InstalmentCount ?? 0;
            if (!options.InstalmentCounts.Contains(count))
            {
                return new PaymentRegistration(PaymentRegistrationStatus.Invalid, null,
                    $"Instalments come in {string.Join(", ", options.InstalmentCounts)} parts, not {count}.");
            }
            var charged = s.Totals.Charged;
            if (!fxRates.TryGetRate(charged.Currency, "USD", out var usdRate, out _)
                || CurrencyConversion.Convert(charged, "USD", usdRate).AmountMinor < options.InstalmentsMinUsdMinor)
            {
                return new PaymentRegistration(PaymentRegistrationStatus.Invalid, null,
                    $"Instalments are offered for orders of at least {options.InstalmentsMinUsdMinor / 100m:0.00} USD.");
            }
            schedule = Payments.InstalmentPlan.Schedule(amount, count, now);
        }
        DateTimeOffset? payBy = null;
        if (request.Instrument.Type == Payments.PaymentMethodType.BankTransfer)
        {
            // The buyer has until the transfer's pay-by time; the order (and its reserved stock) waits as long. Only the first
            // transfer moves the deadline: later ones share its pay-by time, so attempts cannot hold the stock for ever.
            var earlier = s.Payments.Any(p => p.Start.Instrument.Type == Payments.PaymentMethodType.BankTransfer);
            payBy = earlier && s.Deadlines.PaymentDueAt is { } firstPayBy ? firstPayBy : now + options.BankTransferPayBy;
            if (s.Deadlines.PaymentDueAt is not { } due || due < payBy)
            {
                s.Deadlines = s.Deadlines with { PaymentDueAt = payBy };
            }
        }
        var paymentId = Ulid.NewUlid(now).ToString();
        var start = new Payments.PaymentStart(paymentId, orderId, s.Placement.Owner, s.Placement.SellerId, amount,
            request.Instrument, payBy, schedule, request.Signals is { } signals ? RiskEventOf(s, paymentId, request.Instrument, signals, now, fxRates) : null, s.ReviewReason);
        s.Payments.Add(new OrderPaymentRecord { Key = request.Key, RequestHash = request.RequestHash, Start = start, CreatedAt = now });
        Record(s, orderId, orderOptions, now, "PaymentStarted", request.Actor, $"{request.Instrument.Type} payment {start.PaymentId}", notify: false);
        return new PaymentRegistration(PaymentRegistrationStatus.Created, start, null, s.Status);
    }

    /// <summary>The facts of this payment attempt the risk model scores (R-PAY-5); never a card number or an address in clear.</summary>
    private static Risk.RiskEvent RiskEventOf(OrderState s, string paymentId, Payments.PaymentInstrument instrument, RiskSignals signals,
        DateTimeOffset now, IFxRates fxRates)
    {
        var charged = s.Totals!.Charged;
        var usd = fxRates.TryGetRate(charged.Currency, "USD", out var rate, out _) ? CurrencyConversion.Convert(charged, "USD", rate).AmountMinor : 0;
        var to = s.Placement!.ShipTo;
        var address = string.Join('|', new[] { to.Country, to.PostalCode, to.City, to.Line1, to.Line2 ?? "" }
            .Select(part => new string(part.Where(char.IsLetterOrDigit).ToArray()).ToUpperInvariant()));
        var addressKey = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(address)))[..32];
        // A method with no instrument of its own (a bank transfer) counts as the buyer's: keyed by the method alone, every buyer's
        // transfers were one "card", whose hourly cap then blocked the whole platform's transfers and whose history they all shared.
        var instrumentKey = instrument.CardFingerprint ?? (instrument.WalletAccount is { } wallet ? "wallet:" + wallet
            : $"{instrument.Type.ToString().ToLowerInvariant()}:{s.Placement!.Owner}");
        // A client that sends no fingerprint is known only as its buyer's: one "none" device for all of them made every such
        // payment on the platform one device's, whose attempts in the last hour then scored each of them for review.
        var device = signals.DeviceFingerprint == RiskSignals.NoDevice ? $"{RiskSignals.NoDevice}:{s.Placement.Owner}" : signals.DeviceFingerprint;
        return new Risk.RiskEvent(paymentId, now, s.Placement.Owner, now, instrumentKey, instrument.CardBinCountry ?? "", device,
            signals.IpAddress, signals.IpCountry, addressKey, to.Country, usd, s.Lines.Select(l => l.Category).FirstOrDefault(c => c is not null) ?? "unknown",
            Risk.RiskOutcome.Approved);
    }

    /// <summary>
    /// The rows the next write of a live order carries into its transaction (its list row, notifications, tickets), taken out of
    /// the state: once that write is acknowledged nothing is left to publish. Null when there is nothing to carry.
    /// </summary>
    public static OrderOutbox? TakeOutbox(OrderState s, string orderId)
    {
        if (s.Phase != OrderPhase.Live
            || (!s.ProjectionPending && s.PendingNotifications.Count == 0 && s.PendingTickets.Count == 0 && !s.HasTicketsToClose))
        {
            return null;
        }
        var outbox = new OrderOutbox(Summary(s, orderId), s.PendingNotifications.ToArray(), s.PendingTickets.ToArray(),
            s.HasTicketsToClose ? s.TicketsToClose.ToArray() : null);
        s.ProjectionPending = false;
        s.PendingNotifications.Clear();
        s.PendingTickets.Clear();
        if (s.HasTicketsToClose)
        {
            s.TicketsToClose.Clear();
        }
        return outbox;
    }

    /// <summary>
    /// Whether the next write must carry the lines' facts for the category margin (R-DAT-4): the order is paid (a live order in any
    /// status but awaiting payment and cancelled, as the analytics count it) and no write carried them yet. A placed, unpaid order
    /// (a flash sale's) carries none; an order paid before the facts existed carries them with its next change.
    /// </summary>
    public static bool LineFactsDue(OrderState s) => s.Phase == OrderPhase.Live && !s.LineFactsWritten && s.Totals is not null
        && s.Status is not (OrderStatus.AwaitingPayment or OrderStatus.Cancelled);

    /// <summary>
    /// The lines' facts (R-DAT-4): what each line's buyer paid (<see cref="PaidLineValue"/>), the commission on it at the category's
    /// rate (<paramref name="commissionRateBps"/>; rounded half away from zero per line, as the escrow's release counts it) and the
    /// unit cost the line kept.
    /// </summary>
    public static OrderLineFact[] LineFacts(OrderState s, string orderId, Func<string?, int> commissionRateBps)
    {
        var facts = new OrderLineFact[s.Lines.Count];
        for (var i = 0; i < facts.Length; i++)
        {
            var line = s.Lines[i];
            var paid = PaidLineValue(s, i);
            var commission = Wallets.SettlementSplit.LineCommission(paid, commissionRateBps(line.Category));
            facts[i] = new OrderLineFact(orderId, i, s.Placement!.SellerId, s.CreatedAt, line.SkuId, line.Category, line.Quantity, paid, commission,
                line.UnitCost?.AmountMinor, line.LineTotal.Currency);
        }
        return facts;
    }

    /// <summary>
    /// When the sweeper must next wake the order: its placement time-out while preparing, then the deadline its status waits
    /// for, and one check period from now while stock, money or outbox work is unfinished or a capture is under way.
    /// </summary>
    public static DateTimeOffset? NextWake(OrderState s, DateTimeOffset now, OrderOptions options)
    {
        if (s.Phase == OrderPhase.Preparing)
        {
            return s.CreatedAt + options.PlacementTimeout;
        }
        var soon = now + options.DeadlineCheckPeriod;
        DateTimeOffset? due = s.Phase != OrderPhase.Live ? null : s.Status switch
        {
            OrderStatus.AwaitingPayment when s.CaptureLock is not null => soon,
            OrderStatus.AwaitingPayment => s.PaymentLookupUntil ?? s.Deadlines.PaymentDueAt,
            OrderStatus.AwaitingShipment when !s.Late => s.Deadlines.ShipBy,
            OrderStatus.RiskReview => Earliest(s.ReviewOverdue ? null : s.Deadlines.ReviewDueAt, s.CaptureLock is null ? null : s.Deadlines.ReviewExpiresAt),
            // An open dispute holds the protection window's deadlines (R-DIS-1): only the seller's answer is due; a decided one
            // completes the order, which a crash can leave to do.
            OrderStatus.Shipped or OrderStatus.Delivered when s.Dispute is { IsOpen: true } open =>
                open.Status == DisputeStatus.AwaitingSeller ? open.RespondBy
                : open.Inspection is { Report: null, Overdue: false } inspection ? inspection.DueAt : null,
            OrderStatus.Shipped or OrderStatus.Delivered when s.Dispute is { Status: DisputeStatus.Resolved } => soon,
            // An open return holds them too: only its own deadline is due (the address, the dispatch, the receipt).
            OrderStatus.Delivered when s.Return is { IsOpen: true } open => ReturnRules.DueAt(open),
            OrderStatus.Shipped => Earliest(s.StallReported ? null : StalledAt(s, options), ShippedCompletesAt(s, options)),
            OrderStatus.Delivered => s.Deadlines.AutoCompleteAt,
            _ => null,
        };
        return HasOutboxWork(s) && (due is null || due > soon) ? soon : due;
    }

    /// <summary>When a shipped order with no delivery event completes; orders shipped before the deadline existed count from shipping.</summary>
    public static DateTimeOffset? ShippedCompletesAt(OrderState s, OrderOptions options) =>
        s.Deadlines.AutoCompleteAt ?? s.Shipment?.ShippedAt + options.ShippedAutoCompleteAfter;

    /// <summary>When a shipment is stalled (R-LOG-6): no tracking update, or none since shipping, for the configured time.</summary>
    public static DateTimeOffset? StalledAt(OrderState s, OrderOptions options) => OrderTracking.LastUpdate(s) + options.StalledShipmentAfter;

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    public static bool HasOutboxWork(OrderState s) =>
        s.VoidOnCancel is not null || s.Coupon is { Redemption: CouponRedemptionState.GivingBack } || s.HasVoidOpenAttempts || s.Refunds.Any(r => !r.Booked || r.View.Status == Payments.RefundStatus.Pending)
        || s.PendingEscrow.Count > 0 || s.PendingReleases.Count > 0 || s.PendingCommits.Count > 0 || s.ProjectionPending || s.PendingNotifications.Count > 0 || s.PendingTickets.Count > 0
        || s.Return is { Status: ReturnStatus.Refunded, RestockWarehouseId: not null, Restocked: false };

    /// <summary>
    /// Refunded so far, in the seller's and the buyer's currency. A refund the provider refused counts if the seller's ledger
    /// booked it: the ledger took it out of escrow, and a service ticket has it paid back by hand. Left out, the order would ask
    /// the ledger to release more than it holds (the release never succeeds) and a full refund or cancellation would pay the
    /// buyer that amount a second time.
    /// <para>Compensations (R-DIS-4) are left out: the seller's deposit paid them, and the escrow still holds what they gave.</para>
    /// </summary>
    public static (long Seller, long Buyer) RefundedSoFar(OrderState s) => PaidBack(s, OrderRefundKind.Refund);

    /// <summary>
    /// Refunds and compensations so far, in the seller's and the buyer's currency: what the buyer has had back, which never goes
    /// beyond what was paid (a refund or a compensation more than the rest is refused).
    /// </summary>
    public static (long Seller, long Buyer) PaidBackSoFar(OrderState s) => PaidBack(s, null);

    private static (long Seller, long Buyer) PaidBack(OrderState s, OrderRefundKind? kind)
    {
        long seller = 0, buyer = 0;
        foreach (var r in s.Refunds)
        {
            if (Counts(r) && (kind is null || r.View.Kind == kind))
            {
                seller += r.View.Amount.AmountMinor;
                buyer += r.View.BuyerAmount.AmountMinor;
            }
        }
        // An inspection's fee kept from the buyer's refund (R-DIS-6): the refund counts whole in the order's currency (the escrow gave
        // it all up) but sent the buyer that much less, which is not the buyer's to have back later either.
        if (s.Dispute?.Resolution?.InspectionFee is { FromBuyerRefundInBuyerCurrency.AmountMinor: > 0 } kept && kind is null or OrderRefundKind.Refund)
        {
            buyer += kept.FromBuyerRefundInBuyerCurrency.AmountMinor;
        }
        return (seller, buyer);
    }

    /// <summary>Units refunded so far per SKU, by refunds that name their units (refunds by lines, returns' refunds) and count.</summary>
    /// <summary>What arbitrators' partial refunds of returns kept with the seller (<see cref="OrderRefundRecord.Withheld"/>).</summary>
    public static long Withheld(OrderState s) => s.Refunds.Where(Counts).Sum(r => r.Withheld);

    public static IReadOnlyDictionary<string, long> RefundedUnits(OrderState s)
    {
        var units = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var r in s.Refunds)
        {
            if (r.Lines is { } lines && Counts(r))
            {
                foreach (var line in lines)
                {
                    units[line.SkuId] = units.GetValueOrDefault(line.SkuId) + line.Quantity;
                }
            }
        }
        return units;
    }

    private static bool Counts(OrderRefundRecord refund) => refund.View.Status != Payments.RefundStatus.Failed || refund.Booked;

    /// <summary>What the buyer pays for line <paramref name="index"/>'s goods: its list value less its share of a coupon.</summary>
    public static long PaidLineValue(OrderState s, int index) => s.Lines[index].LineTotal.AmountMinor - (s.Coupon?.LineDiscount(index) ?? 0);


    /// <summary>
    /// The order's list row; a shipped order's carries the keys its carrier's feed finds it by, and its destination, shipping and
    /// delivery times and delivery complaint (R-LOG-7); an unshipped one's are nulls. An order with a refund, compensation, dispute
    /// or return also carries what the service score counts (R-DAT-4).
    /// </summary>
    public static OrderSummary Summary(OrderState s, string orderId)
    {
        var row = new OrderSummary(orderId, s.Placement!.Owner, s.Placement.SellerId, s.Status,
            s.Totals!.Seller, s.Totals.Buyer, s.Lines.Count, s.Placement.Source, s.Late, s.CreatedAt, s.UpdatedAt, s.Version,
            Channel: s.Placement.Attribution?.Channel, Campaign: s.Placement.Attribution?.Campaign);
        if (s.Refunds.Count > 0 || s.Dispute is not null || s.Return is not null)
        {
            // After-sales facts (R-DAT-4): never undone once there, so a row that has them keeps having them.
            row = row with
            {
                RefundedMinor = PaidBackSoFar(s).Seller,
                DisputeOpenedAt = s.Dispute?.OpenedAt,
                DisputeResolvedAt = s.Dispute is { IsOpen: false } ended ? ended.Resolution?.At : null,
                DisputeOutcome = DisputeOutcomes.Of(s.Dispute),
                Returned = s.Return is not null,
            };
        }
        return s.Shipment is not { } shipment ? row : row with
        {
            CarrierKey = ShipmentKeys.Carrier(shipment.Carrier),
            TrackingKey = ShipmentKeys.TrackingNumber(shipment.TrackingNumber),
            ShipCountry = s.Placement.ShipTo.Country,
            ShippedAt = shipment.ShippedAt,
            DeliveredAt = s.TrackingOrEmpty.LastOrDefault(e => e.Kind == TrackingEventKind.Delivered)?.At
                ?? s.Timeline.FindLast(e => e.Event == "Delivered")?.At,
            Complaint = CarrierComplaints.Of(s.Dispute),
        };
    }

    public static OrderView View(OrderState s, string orderId) => new(orderId, s.Placement!.Owner, s.Placement.SellerId, s.Status,
        s.Lines.ToArray(), s.Totals!, s.Placement.ShipTo, s.Shipment, s.Deadlines, s.Accepted, s.Late, s.ReviewReason, s.Placement.Source,
        s.Placement.External, s.Placement.CheckoutId, s.CreatedAt, s.UpdatedAt, s.Version, s.PaidBy,
        s.Refunds.Exists(r => r.View.Kind == OrderRefundKind.Refund) ? new Money(RefundedSoFar(s).Seller, s.Totals!.Charged.Currency) : null, s.Dispute,
        OrderTracking.Shown(s), s.Return, s.Refunds.Exists(r => r.View.Kind == OrderRefundKind.Compensation)
            ? s.Refunds.Where(r => r.View.Kind == OrderRefundKind.Compensation).Select(r => r.View).ToArray()
            : null, s.Coupon, s.Placement.Attribution);
}
