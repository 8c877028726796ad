using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Orders;

/// <summary>
/// Persistent state of a checkout grain (state name <c>checkout</c>): the request's hash, its plan, and the answer of a checkout
/// that created no orders (one that did is answered again from its orders).
/// </summary>
[GenerateSerializer]
public sealed class CheckoutState
{
    [Id(0)] public string? RequestHash { get; set; }
    [Id(1)] public string? CheckoutId { get; set; }
    /// <summary>Seller id → order id, fixed before any stock is touched so a retry after a crash resumes the same orders.</summary>
    [Id(2)] public Dictionary<string, string> OrderIdsBySeller { get; set; } = new(StringComparer.Ordinal);
    [Id(3)] public CheckoutResult? Answer { get; set; }
    /// <summary>
    /// The seller whose coupon the checkout's code is, fixed with the plan: a retry resuming it applies the coupon to the same
    /// seller's order even if another seller of the cart has since made a coupon of the same code (looked up again, the first of
    /// them by id got it, and the cart two coupons).
    /// </summary>
    [Id(4)] public string? CouponSellerId { get; set; }
}

/// <summary>
/// The checkout saga (R-ORD-2): prepare every seller's order, then confirm all or abort all; the answer is stored.
/// <para>
/// Its state (state name <c>checkout</c>) is not read when it activates: nearly every Idempotency-Key is new, so the activation
/// starts as if nothing were stored and its first write is an insert. If the key was used before (a retry reaching a new
/// activation), that insert fails its version check before any stock is touched (one seller) or with this attempt's orders
/// aborted (several sellers); the grain then reads what is stored and answers from it as it always did: the stored answer, the
/// stored plan resumed, or the key refused for another body. One read less per checkout, and one round trip less before its
/// stock is reserved.
/// </para>
/// </summary>
public sealed class CheckoutGrain(
    [FromKeyedServices(StorageNames.Trade)] IGrainStorage storage,
    TradeClock clock,
    NewGrainIds newGrains,
    CachedSkuAvailability skuViews) : Grain, ICheckoutGrain
{
    /// <summary>The checkout grain's state name (also written by a SKU that places a one-line checkout itself).</summary>
    public const string StateName = "checkout";
    private const string ShortReason = "Some lines cannot be had; nothing was reserved.";
    private const string ExpiredReason = "The checkout took too long and expired; nothing is reserved. Check out again with a new Idempotency-Key.";

    /// <summary>What this activation knows; until <see cref="_known"/> it may be behind what is stored.</summary>
    private GrainState<CheckoutState> _state = Unknown();
    /// <summary>True once the state was read, or written by this activation: memory is what is stored.</summary>
    private bool _known;
    /// <summary>This activation has served a request for a key already used (see <see cref="DeactivateUnlessRepeated"/>).</summary>
    private bool _repeated;

    private static GrainState<CheckoutState> Unknown() => new(new CheckoutState());

    private CheckoutState S => _state.State!;

    /// <summary>This activation's write found a stored state it had not read (the key was used before).</summary>
    private sealed class StoredBeforeException() : Exception("The checkout's key was used before this activation.");

    public async Task<CheckoutResult> Checkout(CheckoutCommand command)
    {
        _repeated |= S.RequestHash is not null;
        try
        {
            return await Run(command);
        }
        catch (StoredBeforeException)
        {
            _repeated = true;
            var stored = Unknown();
            await storage.ReadStateAsync(StateName, this.GetGrainId(), stored);
            _state = stored;
            _known = true;
            return await Run(command);
        }
    }

    /// <summary>
    /// A checkout's activation leaves as soon as it has answered (one fewer activation in memory per checkout), unless it has
    /// served a key used before. A client that sends its checkout again while the first request is in flight (a double click, a
    /// retry after a time-out) queues its copies behind it; they follow the first activation's deactivation to a new one, which
    /// meets the stored plan and then stays (until its idle age) to answer the rest from memory. Were every activation to leave,
    /// each copy would be forwarded from one leaving activation to the next, and Orleans rejects a message forwarded twice.
    /// </summary>
    private void DeactivateUnlessRepeated()
    {
        if (!_repeated)
        {
            DeactivateOnIdle();
        }
    }

    /// <summary>
    /// Writes the state. A write that finds a row this activation never read means the key was used before: the caller starts
    /// again from what is stored. Any other failure may or may not have landed, so memory goes back to knowing nothing (the next
    /// attempt's insert tells which) and the error goes on: a grain never answers from a change that was not acknowledged.
    /// </summary>
    private async Task Write()
    {
        var wasKnown = _known;
        try
        {
            await storage.WriteStateAsync(StateName, this.GetGrainId(), _state);
            _known = true;
        }
        catch (InconsistentStateException) when (!wasKnown)
        {
            _state = Unknown();
            throw new StoredBeforeException();
        }
        catch
        {
            _state = Unknown();
            _known = false;
            throw;
        }
    }

    private async Task<CheckoutResult> Run(CheckoutCommand command)
    {
        var s = S;
        if (s.RequestHash is not null && s.RequestHash != command.RequestHash)
        {
            return new CheckoutResult(CheckoutStatus.KeyReused, s.CheckoutId!, [], [],
                "This Idempotency-Key was used with a different request body; use a new key for a new checkout.");
        }
        if (s.Answer is not null)
        {
            return s.Answer;
        }

        if (s.RequestHash is null)
        {
            // Group the cart by seller from the catalog; every SKU must exist.
            var skuIds = command.Items.Select(i => i.SkuId).Distinct().ToArray();
            var views = await Task.WhenAll(skuIds.Select(id => AvailabilityOf(id, command.Items.Where(i => i.SkuId == id).Sum(i => i.Quantity))));
            var unknown = skuIds.Where((_, i) => views[i] is null).ToArray();
            var now = clock.GetUtcNow();
            s.RequestHash = command.RequestHash;
            s.CheckoutId = Ulid.NewUlid(now).ToString();
            if (unknown.Length > 0)
            {
                return await Answer(new CheckoutResult(CheckoutStatus.Refused, s.CheckoutId, [], [],
                    $"Unknown SKU(s): {string.Join(", ", unknown)}."));
            }
            // Sold out already: answer without creating orders (the common case once a flash sale is over).
            var available = skuIds.Select((id, i) => (id, views[i]!)).ToDictionary(x => x.id, x => x.Item2, StringComparer.Ordinal);
            var soldOut = command.Items.Where(i => available[i.SkuId].Available < i.Quantity).ToArray();
            if (soldOut.Length > 0)
            {
                var shortLines = new List<ShortLine>();
                foreach (var line in soldOut)
                {
                    var sku = available[line.SkuId];
                    shortLines.Add(new ShortLine(line.SkuId, line.Quantity, sku.Available, await SubstituteOffers.FindAsync(GrainFactory, sku.Catalog, line.Quantity)));
                }
                return await Answer(new CheckoutResult(CheckoutStatus.OutOfStock, s.CheckoutId, [], shortLines, ShortReason));
            }
            string? couponSeller = null;
            if (command.CouponCode is { } code)
            {
                var offering = await SellersOffering(code, views.Select(v => v!.Catalog.SellerId));
                if (offering.Length != 1)
                {
                    return await Answer(new CheckoutResult(CheckoutStatus.Refused, s.CheckoutId, [], [], offering.Length == 0
                        ? $"Coupon '{code}' is not a coupon of a seller whose goods are in this cart; a coupon applies to its own seller's goods. Nothing was placed."
                        : $"Coupon '{code}' is a coupon of several sellers in this cart ({string.Join(", ", offering)}); check out their goods separately. Nothing was placed."));
                }
                couponSeller = offering[0];
            }
            s.CouponSellerId = couponSeller;
            foreach (var sellerId in views.Select(v => v!.Catalog.SellerId).Distinct().Order(StringComparer.Ordinal))
            {
                var orderId = Ulid.NewUlid(now).ToString();
                s.OrderIdsBySeller[sellerId] = orderId;
                newGrains.Minted(GrainFactory.GetGrain<IOrderGrain>(orderId).GetGrainId());
            }
            // The plan and the orders' first writes go out together (one round trip, often one commit) instead of one after the
            // other: the plan need only be durable before any order goes live (a retry must find the same orders), and an order
            // that prepared while its plan failed to land is aborted at once (or by its own placement time-out).
            var planWrite = Write();
            try
            {
                return await RunSaga(command, available.ToDictionary(a => a.Key, a => a.Value.Catalog.SellerId, StringComparer.Ordinal), couponSeller, planWrite);
            }
            finally
            {
                ForgetMinted(s); // a lone order's first call (Place) has returned, or the saga failed before it
            }
        }
        // Resumed: the coupon goes to the seller the plan named; a plan stored without one (a SKU's one-line checkout, or a release
        // before it was kept) gives it to the planned seller that offers it (coupons are never deleted, so the one of before).
        var resumedCouponSeller = command.CouponCode is not { } resumedCode ? null
            : s.CouponSellerId ?? (await SellersOffering(resumedCode, s.OrderIdsBySeller.Keys)).FirstOrDefault();
        return await RunSaga(command, await SellersOf(command), resumedCouponSeller, planWrite: null);
    }

    /// <summary>The sellers (of those given, in ordinal order) that have a coupon of this code, enabled or not.</summary>
    private async Task<string[]> SellersOffering(string code, IEnumerable<string> sellers)
    {
        var distinct = sellers.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var offers = await Task.WhenAll(distinct.Select(seller => GrainFactory.GetGrain<ISellerCouponsGrain>(seller).Offers(code)));
        return distinct.Where((_, i) => offers[i]).ToArray();
    }

    /// <summary>
    /// The SKU's catalog and units available: this silo's recent copy when it showed enough (the order's reservation has the last
    /// word), otherwise the SKU's answer (see <see cref="CachedSkuAvailability"/>).
    /// </summary>
    private async Task<SkuAvailability?> AvailabilityOf(string skuId, long units)
    {
        if (skuViews.TryGetPlenty(skuId, units, out var recent))
        {
            return recent;
        }
        var view = await GrainFactory.GetGrain<ISkuGrain>(skuId).GetAvailability();
        skuViews.Seen(skuId, view);
        return view;
    }

    /// <summary>On a resumed checkout: which planned seller each SKU goes to, from the catalogs as they are now.</summary>
    private async Task<Dictionary<string, string>> SellersOf(CheckoutCommand command)
    {
        var s = S;
        var skuIds = command.Items.Select(i => i.SkuId).Distinct().ToArray();
        var catalogs = await Task.WhenAll(skuIds.Select(id => GrainFactory.GetGrain<ISkuGrain>(id).GetCatalog()));
        var sellerOf = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < skuIds.Length; i++)
        {
            // A SKU that changed seller since the plan stays with the planned seller's order, whose prepare refuses it.
            sellerOf[skuIds[i]] = catalogs[i] is { } c && s.OrderIdsBySeller.ContainsKey(c.SellerId) ? c.SellerId : s.OrderIdsBySeller.Keys.First();
        }
        return sellerOf;
    }

    private async Task<CheckoutResult> RunSaga(CheckoutCommand command, IReadOnlyDictionary<string, string> sellerOf, string? couponSeller, Task? planWrite)
    {
        var s = S;
        // The coupon goes to its own seller's order only (one coupon per checkout, so one per order at most).
        var placements = s.OrderIdsBySeller.Select(pair => new OrderPlacement(
                pair.Value, s.CheckoutId!, command.BuyerId, pair.Key, command.Currency, command.ShipTo,
                command.Items.Where(i => sellerOf[i.SkuId] == pair.Key).ToArray(), OrderSource.Checkout, null, command.Actor,
                pair.Key == couponSeller ? command.CouponCode : null, command.Attribution, this.GetPrimaryKeyString()))
            .Where(p => p.Lines.Count > 0)
            .ToArray();

        if (placements.Length == 1)
        {
            return await PlaceAlone(placements[0], command.Payment, planWrite);
        }
        var preparing = ForgetMintedAfter(Task.WhenAll(placements.Select(p => GrainFactory.GetGrain<IOrderGrain>(p.OrderId).Prepare(p))), s);
        if (planWrite is not null)
        {
            try
            {
                await planWrite;
            }
            catch
            {
                // No durable plan, so a retry would not find these orders: give their stock back now. Best effort: an order that
                // cannot be aborted now gives it back at its placement time-out.
                try
                {
                    await preparing;
                    await Task.WhenAll(placements.Select(p => GrainFactory.GetGrain<IOrderGrain>(p.OrderId).Abort("the checkout could not be recorded")));
                }
                catch
                {
                    // the write's failure is the one the caller hears of
                }
                throw;
            }
        }
        PrepareResult[] prepared;
        try
        {
            prepared = await preparing;
        }
        catch
        {
            // An order failed with an error (its SKU's write, a time-out) and the buyer is told to retry: the other sellers' orders
            // give back what they hold now, not at the placement time-out, and prepare again on the retry. Best effort: a hold not
            // given back now still runs out.
            try
            {
                await Task.WhenAll(placements.Select(p => GrainFactory.GetGrain<IOrderGrain>(p.OrderId).Unprepare("another order of the checkout failed")));
            }
            catch
            {
                // the preparation's failure is the one the caller hears of
            }
            throw;
        }
        if (prepared.All(p => p.Status == PrepareStatus.Prepared))
        {
            var orders = await Task.WhenAll(placements.Select(p => GrainFactory.GetGrain<IOrderGrain>(p.OrderId).Confirm()));
            if (orders.All(o => o is not null))
            {
                // Not stored: the orders are live and durable, and a retry re-runs both idempotent steps against them, which
                // answer the same orders (as they are then). One write less on the hot path of every checkout.
                DeactivateUnlessRepeated();
                return new CheckoutResult(CheckoutStatus.Created, s.CheckoutId!, orders!, [], null);
            }
            // A part timed out while the others were confirmed: cancel those, so the cart stays all or nothing.
            await Task.WhenAll(orders.Where(o => o is not null).Select(o => GrainFactory.GetGrain<IOrderGrain>(o!.OrderId)
                .Apply(new OrderCommand(OrderAction.Cancel, OrderActor.System, "another part of the checkout expired"))));
            return await Answer(new CheckoutResult(CheckoutStatus.Refused, s.CheckoutId!, [], [], ExpiredReason));
        }

        // All or nothing: give back every reservation of this checkout. A retry that resumed the stored plan may find some of its
        // orders live already (confirmed by the attempt before, whose answer was lost): those are cancelled, the rest aborted.
        await Task.WhenAll(placements.Select(p => Undo(GrainFactory.GetGrain<IOrderGrain>(p.OrderId), "another line of the cart could not be had")));
        return await Answer(Refusal(prepared));
    }

    private static async Task Undo(IOrderGrain order, string reason)
    {
        if (await order.Get() is null)
        {
            await order.Abort(reason);
        }
        else
        {
            await order.Apply(new OrderCommand(OrderAction.Cancel, OrderActor.System, reason));
        }
    }

    /// <summary>Why orders that did not all prepare (and are aborted) make no checkout: expired, short lines, or a rule's reason.</summary>
    private CheckoutResult Refusal(IReadOnlyCollection<PrepareResult> prepared)
    {
        var checkoutId = S.CheckoutId!;
        if (prepared.Any(p => p.Status == PrepareStatus.Expired))
        {
            return new CheckoutResult(CheckoutStatus.Refused, checkoutId, [], [], ExpiredReason);
        }
        var shortLines = prepared.SelectMany(p => p.ShortLines).ToArray();
        return shortLines.Length > 0
            ? new CheckoutResult(CheckoutStatus.OutOfStock, checkoutId, [], shortLines, ShortReason)
            : new CheckoutResult(CheckoutStatus.Refused, checkoutId, [], [],
                string.Join(" ", prepared.Select(p => p.Reason).Where(r => r is not null)) is { Length: > 0 } reason ? reason : null);
    }

    /// <summary>
    /// A cart of one seller: one order, nothing to keep all or nothing with, so it is placed in one call once the plan is durable
    /// (a plan that failed to land has touched no stock). An inline payment is registered in the order's placing write.
    /// </summary>
    private async Task<CheckoutResult> PlaceAlone(OrderPlacement placement, PaymentRegistrationRequest? payment, Task? planWrite)
    {
        var s = S;
        if (planWrite is not null)
        {
            await planWrite;
        }
        var placed = await GrainFactory.GetGrain<IOrderGrain>(placement.OrderId).Place(placement, payment); // its mark is forgotten by Checkout
        if (placed.Order is { } order)
        {
            // Not stored, as with several orders: a retry places the same order again, which answers it as it is then.
            DeactivateUnlessRepeated();
            return new CheckoutResult(CheckoutStatus.Created, s.CheckoutId!, [order], [], null, placed.Payment);
        }
        return await Answer(Refusal([placed.Prepared]));
    }

    /// <summary>
    /// The first call to this checkout's new orders has returned, so wherever it activated them they are no longer new: a later
    /// activation on this silo must read their state (see <see cref="NewGrainIds"/>).
    /// </summary>
    private async Task<T> ForgetMintedAfter<T>(Task<T> firstCall, CheckoutState plan)
    {
        try
        {
            return await firstCall;
        }
        finally
        {
            ForgetMinted(plan);
        }
    }

    /// <summary>Takes the plan the orders were minted for: a write that found an older plan has replaced the grain's state by then.</summary>
    private void ForgetMinted(CheckoutState plan)
    {
        foreach (var orderId in plan.OrderIdsBySeller.Values)
        {
            newGrains.Forget(GrainFactory.GetGrain<IOrderGrain>(orderId).GetGrainId());
        }
    }

    private async Task<CheckoutResult> Answer(CheckoutResult answer)
    {
        S.Answer = answer;
        await Write();
        // The answer is durable: a retry reads it back, so the activation need not wait in memory for one.
        DeactivateUnlessRepeated();
        return answer;
    }
}
