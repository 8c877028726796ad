using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

/// <summary>
/// The carrier registry as this silo last read it (R-LOG-2, R-LOG-3), so planning a parcel's carriers does not call the one registry
/// grain each time. A copy is at most <see cref="MaxAge"/> old (business clock); the registry drops its own silo's copy when it
/// changes, other silos see the change within that age.
/// </summary>
public sealed class CachedCarrierCatalog(TradeClock clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly CachedRead<CarrierCatalog> _catalog = new(clock, MaxAge);

    public ValueTask<CarrierCatalog> GetAsync(IGrainFactory grains) =>
        _catalog.GetAsync(() => grains.GetGrain<ICarrierRegistryGrain>(ICarrierRegistryGrain.Key).Get());

    /// <summary>Drops this silo's copy: the next plan reads the registry again.</summary>
    public void Invalidate() => _catalog.Invalidate();
}
