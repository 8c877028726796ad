using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

[GenerateSerializer]
public sealed class CarrierRegistryState
{
    [Id(0)] public Dictionary<string, Carrier> Carriers { get; set; } = new(StringComparer.Ordinal);

    [Id(1)] public Dictionary<string, DestinationRestriction> Restrictions { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The platform's carriers and destinations' prohibitions (R-LOG-2, R-LOG-3): one grain, written by admins now and then, read by
/// each silo's <see cref="CachedCarrierCatalog"/>.
/// </summary>
public sealed class CarrierRegistryGrain(
    [PersistentState(stateName: "carrier-registry", storageName: StorageNames.Trade)] IPersistentState<CarrierRegistryState> state,
    TradeClock clock,
    CachedCarrierCatalog cache) : Grain, ICarrierRegistryGrain
{
    /// <summary>
    /// The catalog of the stored state. Built before a change is made (<see cref="Get"/> interleaves with the change's write), and
    /// dropped only once memory is again what storage holds (written, or reloaded after a failed write, which may have landed):
    /// built from the changed state while it was written, it kept a change whose write failed in force on every silo until the
    /// next change.
    /// </summary>
    private CarrierCatalog? _catalog;

    public async Task<CarrierWrite> PutCarrier(string carrierId, string name, CarrierService service, string currency, int maxWeightGrams,
        bool tracked, IReadOnlyList<CarrierLane> lanes, IReadOnlyList<CarrierAcceptance> accepts, bool enabled)
    {
        _catalog ??= Build();
        var carriers = state.State.Carriers;
        carriers.TryGetValue(carrierId, out var existing);
        if (existing is null && carriers.Count >= CarrierRules.MaxCarriers)
        {
            return new CarrierWrite(CarrierWriteStatus.TooMany, null);
        }
        var carrier = new Carrier(carrierId, name, service, currency, maxWeightGrams, tracked, lanes.ToArray(), accepts.ToArray(), enabled,
            (existing?.Version ?? 0) + 1, clock.GetUtcNow());
        if (existing is not null && Same(existing, carrier))
        {
            return new CarrierWrite(CarrierWriteStatus.Unchanged, existing);
        }
        carriers[carrierId] = carrier;
        await Write();
        return new CarrierWrite(existing is null ? CarrierWriteStatus.Created : CarrierWriteStatus.Updated, carrier);
    }

    public async Task<DestinationRestriction> PutRestriction(string country, IReadOnlyList<GoodsClass> prohibited)
    {
        _catalog ??= Build();
        var restrictions = state.State.Restrictions;
        var goods = prohibited.Distinct().Order().ToArray();
        if (restrictions.TryGetValue(country, out var existing) && existing.Prohibited.SequenceEqual(goods)
            || existing is null && goods.Length == 0)
        {
            return existing ?? new DestinationRestriction(country, [], clock.GetUtcNow());
        }
        var restriction = new DestinationRestriction(country, goods, clock.GetUtcNow());
        if (goods.Length == 0)
        {
            restrictions.Remove(country);
        }
        else
        {
            restrictions[country] = restriction;
        }
        await Write();
        return restriction;
    }

    public Task<CarrierCatalog> Get() => Task.FromResult(_catalog ??= Build());

    private CarrierCatalog Build() => new(
        state.State.Carriers.Values.OrderBy(c => c.CarrierId, StringComparer.Ordinal).ToArray(),
        state.State.Restrictions.Values.OrderBy(r => r.Country, StringComparer.Ordinal).ToArray());

    private Task Write() => state.WriteOrReloadAsync(this, () =>
    {
        _catalog = null;
        cache.Invalidate();
    });

    private static bool Same(Carrier a, Carrier b) =>
        a with { Lanes = [], Accepts = [], Version = 0, UpdatedAt = default } == b with { Lanes = [], Accepts = [], Version = 0, UpdatedAt = default }
        && a.Lanes.Count == b.Lanes.Count && a.Lanes.Zip(b.Lanes).All(p => p.First.Countries.SequenceEqual(p.Second.Countries)
            && p.First with { Countries = [] } == p.Second with { Countries = [] })
        && a.Accepts.Count == b.Accepts.Count && a.Accepts.Zip(b.Accepts).All(p => p.First.Goods == p.Second.Goods
            && p.First.Countries.SequenceEqual(p.Second.Countries));
}
