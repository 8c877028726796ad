using Orleans.Concurrency;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Logistics;

/// <summary>
/// Plans carriers (R-LOG-2, R-LOG-3) on whichever silo asks: it holds nothing, reads the registry through the silo's cache, and
/// each plan reads the seller's rules and the order's SKUs.
/// </summary>
[StatelessWorker]
public sealed class CarrierPlannerGrain(CachedCarrierCatalog catalogs, IFxRates fxRates) : Grain, ICarrierPlannerGrain
{
    public async Task<CarrierPlan> PlanOrder(OrderView order) => await PlanParcel(order.SellerId, await Parcel(order));

    public async Task<string?> ShipRefusal(OrderView order, string carrier)
    {
        var catalog = await catalogs.GetAsync(GrainFactory);
        if (catalog.Carriers.Count == 0 && catalog.Restrictions.Count == 0)
        {
            return null;
        }
        var parcel = await Parcel(order);
        if (CarrierRules.Prohibited(catalog, parcel) is { Count: > 0 } prohibited)
        {
            return $"{parcel.Country} prohibits {string.Join(", ", prohibited.Select(CarrierRules.Camel))}, which the order holds: no carrier may take it there.";
        }
        var key = ShipmentKeys.Carrier(carrier);
        var named = catalog.Carriers.FirstOrDefault(c => ShipmentKeys.Carrier(c.CarrierId) == key || ShipmentKeys.Carrier(c.Name) == key);
        return named is not null && CarrierRules.WhyNot(named, parcel) is { Count: > 0 } reasons
            ? $"Carrier '{named.CarrierId}' cannot take this order's parcel: {string.Join("; ", reasons)}."
            : null;
    }

    private async Task<ParcelFacts> Parcel(OrderView order)
    {
        var skus = order.Lines.Select(l => l.SkuId).Distinct(StringComparer.Ordinal).ToArray();
        var catalogs = await Task.WhenAll(skus.Select(id => GrainFactory.GetGrain<ISkuGrain>(id).GetCatalog()));
        var bySku = new Dictionary<string, SkuCatalog?>(StringComparer.Ordinal);
        for (var i = 0; i < skus.Length; i++)
        {
            bySku[skus[i]] = catalogs[i];
        }
        long weight = 0;
        var goods = new SortedSet<GoodsClass>();
        foreach (var line in order.Lines)
        {
            if (bySku[line.SkuId] is not { } catalog)
            {
                continue;
            }
            weight = checked(weight + catalog.WeightGrams * line.Quantity);
            goods.UnionWith(catalog.RestrictedGoods ?? []);
        }
        return new ParcelFacts(order.ShipTo.Country, weight, goods.ToArray(), order.Totals.Seller);
    }

    public async Task<CarrierPlan> PlanParcel(string sellerId, ParcelFacts parcel)
    {
        var catalog = await catalogs.GetAsync(GrainFactory);
        var rules = await GrainFactory.GetGrain<ISellerShippingGrain>(sellerId).GetCarrierRules();
        return CarrierRules.Plan(catalog, rules, parcel, fxRates.TryConvert);
    }

    public async Task<(string SellerId, ParcelFacts Parcel)?> SkuParcel(string skuId, long quantity, string country)
    {
        var catalog = await GrainFactory.GetGrain<ISkuGrain>(skuId).GetCatalog();
        return catalog is null ? null : (catalog.SellerId, new ParcelFacts(country, checked(catalog.WeightGrams * quantity),
            (catalog.RestrictedGoods ?? []).Distinct().Order().ToArray(), new Money(checked(catalog.Price.AmountMinor * quantity), catalog.Price.Currency)));
    }
}
