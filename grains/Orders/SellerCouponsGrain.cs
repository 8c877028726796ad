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
    [property: Id(4)] long DiscountMinor);

[GenerateSerializer]
public sealed class SellerCouponsState
{
    /// <summary>By normalised code.</summary>
    [Id(0)] public Dictionary<string, CouponView> Coupons { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The redemptions that count, by order id.</summary>
    [Id(1)] public Dictionary<string, CouponRedemptionRecord> Redemptions { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One seller's coupons and their redemptions (state name <c>coupon</c>). Redemptions are counted in the grain's turn, so the
/// total and per-buyer limits hold however many checkouts race; each is written before it is answered. A redemption an order
/// took while being placed is tentative: past its hold time the order is asked whether it was placed (as a SKU asks for its
/// stock holds), and one never placed is given back. Cancelled orders give theirs back themselves.
/// </summary>
public sealed class SellerCouponsGrain(
    [PersistentState(stateName: SellerCouponsGrain.StateName, storageName: StorageNames.Trade)] IPersistentState<SellerCouponsState> state,
    TradeClock clock,
    IOptions<Inventory.InventoryOptions> options,
    ILogger<SellerCouponsGrain> logger) : Grain, ISellerCouponsGrain
{
    public const string StateName = "coupon";

    /// <summary>Writes one at a time: the hold check interleaves with requests while it waits on orders.</summary>
    private readonly SemaphoreSlim _writing = new(1, 1);
    private IGrainTimer? _holdTimer;
    private bool _checkingHolds;
    /// <summary>
    /// The redemptions counted per code and per code and buyer, kept with each change so a redemption costs no scan of them all
    /// (a busy coupon holds thousands); null until first needed and after a failed write, which reloads them: then counted again.
    /// </summary>
    private Dictionary<string, int>? _byCode;
    private Dictionary<(string Code, string BuyerId), int>? _byBuyer;

    private SellerCouponsState S => state.State;
    private string SellerId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Redemptions.Values.Any(r => r.HoldUntil is not null))
        {
            ScheduleHoldCheck();
        }
        return Task.CompletedTask;
    }

    public async Task<CouponWrite> Put(CouponTerms terms)
    {
        S.Coupons.TryGetValue(terms.Code, out var existing);
        if (existing is null && S.Coupons.Count >= CouponCodes.MaxCouponsPerSeller)
        {
            return new CouponWrite(CouponWriteStatus.TooMany, null);
        }
        if (existing is not null && existing.Terms == terms)
        {
            return new CouponWrite(CouponWriteStatus.Unchanged, existing);
        }
        var now = clock.GetUtcNow();
        var coupon = new CouponView(SellerId, terms, Redeemed(terms.Code), (existing?.Version ?? 0) + 1, existing?.CreatedAt ?? now, now);
        await Write(() => S.Coupons[terms.Code] = coupon);
        return new CouponWrite(existing is null ? CouponWriteStatus.Created : CouponWriteStatus.Updated, coupon);
    }

    public Task<CouponView?> Get(string code) =>
        Task.FromResult(S.Coupons.TryGetValue(code, out var coupon) ? coupon with { Redeemed = Redeemed(code) } : null);

    public Task<IReadOnlyList<CouponView>> List() => Task.FromResult<IReadOnlyList<CouponView>>(
        S.Coupons.Values.OrderBy(c => c.Terms.Code, StringComparer.Ordinal).Select(c => c with { Redeemed = Redeemed(c.Terms.Code) }).ToArray());

    public Task<bool> Offers(string code) => Task.FromResult(S.Coupons.ContainsKey(code));

    public async Task<CouponRedemption> Redeem(CouponRedemptionRequest request)
    {
        if (S.Redemptions.TryGetValue(request.OrderId, out var taken) && taken.Code == request.Code)
        {
            // The order asks again (its checkout retried, or it prepared again after a reactivation): the same discount.
            return new CouponRedemption(true, new Money(taken.DiscountMinor, request.Goods.Currency), null);
        }
        if (!S.Coupons.TryGetValue(request.Code, out var coupon))
        {
            return new CouponRedemption(false, null, $"Seller '{SellerId}' has no coupon '{request.Code}'.");
        }
        var terms = coupon.Terms;
        var byBuyer = ByBuyer().GetValueOrDefault((request.Code, request.BuyerId));
        if (CouponRules.Refusal(terms, request.Goods, request.At, Redeemed(request.Code), byBuyer) is { } refusal)
        {
            return new CouponRedemption(false, null, refusal);
        }
        var discount = CouponRules.Discount(terms, request.Goods.AmountMinor);
        await Write(() => Add(request.OrderId, new CouponRedemptionRecord(request.Code, request.BuyerId, request.At, request.HoldUntil, discount)));
        ScheduleHoldCheck();
        return new CouponRedemption(true, new Money(discount, request.Goods.Currency), null);
    }

    public async Task GiveBack(string orderId)
    {
        if (S.Redemptions.ContainsKey(orderId))
        {
            await Write(() => Remove(orderId));
        }
    }

    private int Redeemed(string code)
    {
        ByBuyer();
        return _byCode!.GetValueOrDefault(code);
    }

    private Dictionary<(string Code, string BuyerId), int> ByBuyer()
    {
        if (_byBuyer is null)
        {
            _byCode = new(StringComparer.Ordinal);
            _byBuyer = [];
            foreach (var r in S.Redemptions.Values)
            {
                Count(r, +1);
            }
        }
        return _byBuyer;
    }

    private void Count(CouponRedemptionRecord r, int delta)
    {
        if (_byCode is null || _byBuyer is null)
        {
            return;
        }
        _byCode[r.Code] = _byCode.GetValueOrDefault(r.Code) + delta;
        _byBuyer[(r.Code, r.BuyerId)] = _byBuyer.GetValueOrDefault((r.Code, r.BuyerId)) + delta;
    }

    private void Add(string orderId, CouponRedemptionRecord record)
    {
        if (S.Redemptions.Remove(orderId, out var replaced))
        {
            Count(replaced, -1);
        }
        S.Redemptions[orderId] = record;
        Count(record, +1);
    }

    private void Remove(string orderId)
    {
        if (S.Redemptions.Remove(orderId, out var removed))
        {
            Count(removed, -1);
        }
    }

    /// <summary>Applies a change and writes it, one write at a time; a failed write reloads what is stored and the error goes on.</summary>
    private async Task Write(Action change)
    {
        await _writing.WaitAsync();
        try
        {
            change();
            await state.WriteOrReloadAsync(this);
        }
        catch
        {
            // Memory went back to what is stored (or the activation is dropped): the counts are taken again when next needed.
            _byCode = null;
            _byBuyer = null;
            throw;
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Settles tentative redemptions whose hold time passed: kept (firm) when the order is placed, given back otherwise.</summary>
    private async Task CheckHolds()
    {
        if (_checkingHolds)
        {
            return;
        }
        _checkingHolds = true;
        try
        {
            var now = clock.GetUtcNow();
            var tentative = S.Redemptions.Where(r => r.Value.HoldUntil is not null).ToArray();
            if (tentative.Length == 0)
            {
                _holdTimer?.Dispose();
                _holdTimer = null;
                return;
            }
            var expired = tentative.Where(r => r.Value.HoldUntil <= now).Select(r => r.Key).ToArray();
            if (expired.Length == 0)
            {
                return;
            }
            var answers = await Task.WhenAll(expired.Select(async orderId =>
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
            await Write(() =>
            {
                for (var i = 0; i < expired.Length; i++)
                {
                    // Only a redemption still tentative: the order may have given it back (or taken it again) meanwhile.
                    if (answers[i] is not { } keeps || !S.Redemptions.TryGetValue(expired[i], out var current) || current.HoldUntil is null)
                    {
                        continue;
                    }
                    if (keeps)
                    {
                        S.Redemptions[expired[i]] = current with { HoldUntil = null };
                    }
                    else
                    {
                        Remove(expired[i]);
                    }
                }
            });
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
