using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>An order's redemption of a coupon: tentative until <see cref="HoldUntil"/> (null once its order is known placed).</summary>
[GenerateSerializer, Immutable]
public sealed record CouponRedemptionRecord(
    [property: Id(0)] string Code,
    [property: Id(1)] string BuyerId,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] DateTimeOffset? HoldUntil,
    [property: Id(4)] long DiscountMinor,
    /// <summary>The checkout the order was placed for (null for redemptions taken before 7 December, night, and by earlier releases).</summary>
    [property: Id(5)] string? CheckoutKey = null);

[GenerateSerializer]
public sealed class SellerCouponsState
{
    /// <summary>By normalised code.</summary>
    [Id(0)] public Dictionary<string, CouponView> Coupons { get; set; } = new(StringComparer.Ordinal);
    /// <summary>
    /// The redemptions of the first release, by order id: since 7 December (late afternoon) they are rows of the coupon ledger, and an
    /// activation finding any here moves them there first.
    /// </summary>
    [Id(1)] public Dictionary<string, CouponRedemptionRecord> Redemptions { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One seller's coupons (state name <c>coupon</c>: the terms only) and their redemptions (rows of the coupon ledger,
/// <see cref="ICouponLedgerStore"/>). Redemptions are checked against the limits and counted in memory inside the grain's turn,
/// so the total and per-buyer limits hold however many checkouts race; each is answered only once the write holding it has
/// committed, and redemptions arriving while a write is in flight share the next one (group commit), which carries only what
/// changed: a coupon in a flash sale costs a row per order, not a rewrite of every redemption it ever had. A redemption an order
/// took while being placed is tentative: past its hold time it is kept if the order projection holds the order (asked in bulk,
/// as a SKU settles its stock holds), and the orders not there are asked one by one whether they were placed; one never placed
/// is given back. Cancelled orders give theirs back themselves.
/// </summary>
[Reentrant]
public sealed class SellerCouponsGrain(
    [PersistentState(stateName: SellerCouponsGrain.StateName, storageName: StorageNames.Trade)] IPersistentState<SellerCouponsState> state,
    ICouponLedgerStore ledger,
    Inventory.IPlacedOrders placedOrders,
    TradeClock clock,
    IOptions<Inventory.InventoryOptions> options,
    ILogger<SellerCouponsGrain> logger) : Grain, ISellerCouponsGrain
{
    public const string StateName = "coupon";
    /// <summary>Order ids per query of the order projection.</summary>
    private const int HoldCheckChunk = 2_000;

    /// <summary>Terms are written one at a time (the grain is reentrant).</summary>
    private readonly SemaphoreSlim _writingTerms = new(1, 1);
    private IGrainTimer? _holdTimer;
    private bool _checkingHolds;
    /// <summary>The redemptions that count, by order id: what is stored plus what the pending write carries.</summary>
    private readonly Dictionary<string, CouponRedemptionRecord> _redemptions = new(StringComparer.Ordinal);
    /// <summary>Orders whose redemption changed since the last write began: upserted if still in <see cref="_redemptions"/>, else removed.</summary>
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    /// <summary>The redemptions counted per code and per code and buyer, kept with each change (a busy coupon holds thousands).</summary>
    private readonly Dictionary<string, int> _byCode = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Code, string BuyerId), int> _byBuyer = [];
    /// <summary>Tentative redemptions per checkout, code and buyer: a retried checkout's earlier attempts (see <see cref="Redeem"/>).</summary>
    private readonly Dictionary<(string CheckoutKey, string Code, string BuyerId), int> _tentativeByCheckout = [];
    /// <summary>The ledger's version the memory was loaded at or last written: what the next write names.</summary>
    private long _version;
    private GroupCommit? _commit;

    private SellerCouponsState S => state.State;

    /// <summary>
    /// The terms as stored, which every read and redemption goes by. A change is written as a new dictionary and taken here once
    /// memory is again what storage holds: the grain is reentrant, and redemptions served from the changed terms while their write
    /// was in flight kept a discount or a raised limit whose write then failed.
    /// </summary>
    private Dictionary<string, CouponView> _terms = new(StringComparer.Ordinal);
    private string SellerId => this.GetPrimaryKeyString();

    private GroupCommit Commit => _commit ??= new GroupCommit(WritePending, ex =>
    {
        if (ex is CouponLedgerConflictException)
        {
            // Two activations (a partition or a membership change): the other one wrote first, so these counts miss its redemptions.
            logger.LogWarning("The coupon redemptions of seller {SellerId} were written by another activation since version {Version}; this one reloads",
                SellerId, _version);
        }
        else
        {
            logger.LogError(ex, "Storing coupon redemptions of seller {SellerId} failed; the activation reloads", SellerId);
        }
        DeactivateOnIdle();
        return new TransientStorageException($"The coupons of seller '{SellerId}' could not store a redemption; nothing was acknowledged, retry.");
    });

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _terms = S.Coupons;
        var stored = await ledger.LoadAsync(SellerId, cancellationToken);
        _version = stored.Version;
        foreach (var (orderId, record) in stored.Redemptions)
        {
            Add(orderId, record);
        }
        if (S.Redemptions.Count > 0)
        {
            await MoveFirstReleaseRedemptions(cancellationToken);
        }
        if (_redemptions.Values.Any(r => r.HoldUntil is not null))
        {
            ScheduleHoldCheck();
        }
    }

    /// <summary>
    /// Redemptions kept in the grain state by the first release go to the ledger, then leave the state; a row already stored for the
    /// order wins (it was written later). Both writes are idempotent, so a crash between them only repeats the move.
    /// </summary>
    private async Task MoveFirstReleaseRedemptions(CancellationToken cancellationToken)
    {
        var moved = S.Redemptions.Where(r => !_redemptions.ContainsKey(r.Key)).ToArray();
        if (moved.Length > 0)
        {
            _version = await ledger.WriteAsync(new CouponLedgerWrite(SellerId, _version, moved, []), cancellationToken);
            foreach (var (orderId, record) in moved)
            {
                Add(orderId, record);
            }
        }
        logger.LogInformation("Seller {SellerId}'s coupons moved {Count} redemptions from their grain state to the coupon ledger", SellerId, moved.Length);
        S.Redemptions = new(StringComparer.Ordinal);
        await state.WriteStateAsync(cancellationToken);
    }

    public async Task<CouponWrite> Put(CouponTerms terms)
    {
        await _writingTerms.WaitAsync();
        try
        {
            S.Coupons.TryGetValue(terms.Code, out var existing);
            if (existing is null && S.Coupons.Count >= CouponCodes.MaxCouponsPerSeller)
            {
                return new CouponWrite(CouponWriteStatus.TooMany, null);
            }
            terms = CouponRules.Normalize(terms);
            if (existing is not null && CouponRules.Same(existing.Terms, terms))
            {
                return new CouponWrite(CouponWriteStatus.Unchanged, existing with { Redeemed = Redeemed(terms.Code) });
            }
            var now = clock.GetUtcNow();
            var coupon = new CouponView(SellerId, terms, 0, (existing?.Version ?? 0) + 1, existing?.CreatedAt ?? now, now);
            S.Coupons = new Dictionary<string, CouponView>(S.Coupons, StringComparer.Ordinal) { [terms.Code] = coupon };
            await state.WriteOrReloadAsync(this, () => _terms = S.Coupons);
            return new CouponWrite(existing is null ? CouponWriteStatus.Created : CouponWriteStatus.Updated, coupon with { Redeemed = Redeemed(terms.Code) });
        }
        finally
        {
            _writingTerms.Release();
        }
    }

    public async Task<CouponView?> Get(string code)
    {
        // The count shown is one that is stored: it waits for redemptions still being written.
        await Commit.CommitAsync(changed: false);
        return _terms.TryGetValue(code, out var coupon) ? coupon with { Redeemed = Redeemed(code) } : null;
    }

    public async Task<IReadOnlyList<CouponView>> List()
    {
        await Commit.CommitAsync(changed: false);
        return _terms.Values.OrderBy(c => c.Terms.Code, StringComparer.Ordinal).Select(c => c with { Redeemed = Redeemed(c.Terms.Code) }).ToArray();
    }

    public Task<bool> Offers(string code) => Task.FromResult(_terms.ContainsKey(code));

    public async Task<CouponRedemption> Redeem(CouponRedemptionRequest request)
    {
        Commit.ThrowIfFailed();
        _terms.TryGetValue(request.Code, out var coupon);
        if (_redemptions.TryGetValue(request.OrderId, out var taken) && taken.Code == request.Code)
        {
            // The order asks again (its checkout retried, or it prepared again after a reactivation): the same discount, once stored,
            // on the lines the coupon applies to now (its terms kept its scope unless its seller changed it meanwhile).
            await Commit.CommitAsync(changed: false);
            var again = coupon is null ? null : CouponRules.EligibleGoods(coupon.Terms, request.Goods, request.Lines).Eligible;
            return new CouponRedemption(true, new Money(taken.DiscountMinor, request.Goods.Currency), null, again, coupon?.Terms.FreeShipping == true);
        }
        if (coupon is null)
        {
            return new CouponRedemption(false, null, $"Seller '{SellerId}' has no coupon '{request.Code}'.");
        }
        var terms = coupon.Terms;
        var (goods, eligible) = CouponRules.EligibleGoods(terms, request.Goods, request.Lines);
        if (eligible is not null && !eligible.Contains(true) && terms.Enabled)
        {
            return new CouponRedemption(false, null, CouponRules.NoneEligible(terms));
        }
        var byBuyer = _byBuyer.GetValueOrDefault((request.Code, request.BuyerId));
        // A retried checkout whose earlier attempt failed after taking its redemption (a failed write, a lost answer) places a new
        // order. The earlier attempts' redemptions stay tentative until their hold time, when the orders not placed give them back;
        // at most one order of a checkout is ever placed (its key is stored once), so they do not count against this one. Counted
        // for every other checkout, the limits then hold for the orders placed.
        var earlier = request.CheckoutKey is { } checkout ? _tentativeByCheckout.GetValueOrDefault((checkout, request.Code, request.BuyerId)) : 0;
        if (CouponRules.Refusal(terms, goods, request.At, Redeemed(request.Code) - earlier, byBuyer - earlier) is { } refusal)
        {
            return new CouponRedemption(false, null, refusal);
        }
        var discount = CouponRules.Discount(terms, goods.AmountMinor);
        // Counted now, in this turn, so the next request sees it; answered once its write has committed.
        Change(request.OrderId, new CouponRedemptionRecord(request.Code, request.BuyerId, request.At, request.HoldUntil, discount, request.CheckoutKey));
        await Commit.CommitAsync(changed: true);
        ScheduleHoldCheck();
        return new CouponRedemption(true, new Money(discount, request.Goods.Currency), null, eligible, terms.FreeShipping);
    }

    public async Task GiveBack(string orderId)
    {
        Commit.ThrowIfFailed();
        if (_redemptions.ContainsKey(orderId))
        {
            Change(orderId, null);
            await Commit.CommitAsync(changed: true);
        }
        else
        {
            // Given back by an earlier call whose write may still be in flight.
            await Commit.CommitAsync(changed: false);
        }
    }

    private int Redeemed(string code) => _byCode.GetValueOrDefault(code);

    private void Count(CouponRedemptionRecord r, int delta)
    {
        _byCode[r.Code] = _byCode.GetValueOrDefault(r.Code) + delta;
        _byBuyer[(r.Code, r.BuyerId)] = _byBuyer.GetValueOrDefault((r.Code, r.BuyerId)) + delta;
        if (r is { CheckoutKey: { } checkout, HoldUntil: not null })
        {
            var key = (checkout, r.Code, r.BuyerId);
            var left = _tentativeByCheckout.GetValueOrDefault(key) + delta;
            if (left > 0)
            {
                _tentativeByCheckout[key] = left;
            }
            else
            {
                _tentativeByCheckout.Remove(key);
            }
        }
    }

    private void Add(string orderId, CouponRedemptionRecord record)
    {
        if (_redemptions.Remove(orderId, out var replaced))
        {
            Count(replaced, -1);
        }
        _redemptions[orderId] = record;
        Count(record, +1);
    }

    /// <summary>Sets (or with null removes) an order's redemption in memory and marks it for the next write.</summary>
    private void Change(string orderId, CouponRedemptionRecord? record)
    {
        if (record is null)
        {
            if (_redemptions.Remove(orderId, out var removed))
            {
                Count(removed, -1);
            }
        }
        else
        {
            Add(orderId, record);
        }
        _changed.Add(orderId);
    }

    /// <summary>Writes every change made so far (its snapshot taken before the first await).</summary>
    private async Task WritePending()
    {
        var upserted = new List<KeyValuePair<string, CouponRedemptionRecord>>(_changed.Count);
        var removed = new List<string>();
        foreach (var orderId in _changed)
        {
            if (_redemptions.TryGetValue(orderId, out var record))
            {
                upserted.Add(KeyValuePair.Create(orderId, record));
            }
            else
            {
                removed.Add(orderId);
            }
        }
        _changed.Clear();
        _version = await ledger.WriteAsync(new CouponLedgerWrite(SellerId, _version, upserted, removed), CancellationToken.None);
    }

    /// <summary>Settles tentative redemptions whose hold time passed: kept (firm) when the order is placed, given back otherwise.</summary>
    private async Task CheckHolds()
    {
        if (_checkingHolds || Commit.IsFailed)
        {
            return;
        }
        _checkingHolds = true;
        try
        {
            var now = clock.GetUtcNow();
            var tentative = _redemptions.Where(r => r.Value.HoldUntil is not null).ToArray();
            if (tentative.Length == 0)
            {
                _holdTimer?.Dispose();
                _holdTimer = null;
                return;
            }
            var due = tentative.Where(r => r.Value.HoldUntil <= now).Select(r => r.Key).ToArray();
            if (due.Length == 0)
            {
                return;
            }
            // Placed orders are found in the order projection in bulk (a coupon's flash sale leaves thousands of holds due at once):
            // only the others wake their order grains. A placed order cancelled since gives its redemption back itself.
            var placed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var chunk in due.Chunk(HoldCheckChunk))
            {
                placed.UnionWith(await placedOrders.WhichArePlacedAsync(chunk, CancellationToken.None));
            }
            var expired = due.Where(orderId => !placed.Contains(orderId)).ToArray();
            var asked = await Task.WhenAll(expired.Select(async orderId =>
            {
                try
                {
                    return (bool?)await GrainFactory.GetGrain<IOrderGrain>(orderId).KeepsReservation(CouponCodes.ReservationId(orderId));
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Seller {SellerId}'s coupons could not settle the redemption of order {OrderId}; will ask again", SellerId, orderId);
                    return null;
                }
            }));
            var answers = placed.Select(orderId => (OrderId: orderId, Keeps: (bool?)true))
                .Concat(expired.Select((orderId, i) => (OrderId: orderId, Keeps: asked[i])))
                .ToArray();
            var changed = false;
            foreach (var (orderId, answer) in answers)
            {
                // Only a redemption still tentative: the order may have given it back (or taken it again) meanwhile.
                if (answer is not { } keeps || !_redemptions.TryGetValue(orderId, out var current) || current.HoldUntil is null)
                {
                    continue;
                }
                Change(orderId, keeps ? current with { HoldUntil = null } : null);
                changed = true;
            }
            if (changed)
            {
                await Commit.CommitAsync(changed: true);
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Seller {SellerId}'s coupons could not settle their tentative redemptions; will retry", SellerId);
        }
        finally
        {
            _checkingHolds = false;
        }
    }

    private void ScheduleHoldCheck()
    {
        var period = options.Value.HoldCheckPeriod;
        _holdTimer ??= this.RegisterGrainTimer(static (grain, _) => grain.CheckHolds(), this,
            new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = true, KeepAlive = true });
    }
}
