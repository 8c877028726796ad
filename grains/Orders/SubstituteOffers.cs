using Orleans.Trade.Inventory;

namespace Orleans.Trade.Orders;

/// <summary>R-INV-5: the substitutes a seller configured for a SKU that can cover the quantity asked for right now.</summary>
public static class SubstituteOffers
{
    private const int MaxSubstitutes = 10;

    public static async Task<IReadOnlyList<SubstituteOffer>> FindAsync(IGrainFactory grains, SkuCatalog? catalog, long quantity)
    {
        var ids = (catalog?.SubstituteSkuIds ?? []).Take(MaxSubstitutes).ToArray();
        var offers = await Task.WhenAll(ids.Select(id => grains.GetGrain<ISkuGrain>(id).GetAvailability()));
        return ids.Zip(offers)
            // Only the seller's own: an id named before any SKU had it may since be another seller's.
            .Where(x => x.Second is not null && x.Second.Available >= quantity && x.Second.Catalog.SellerId == catalog!.SellerId)
            .Select(x => new SubstituteOffer(x.First, x.Second!.Catalog.Title, x.Second.Available, x.Second.Catalog.Price))
            .ToArray();
    }
}
