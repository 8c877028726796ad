using Orleans.Trade.Common;

namespace Orleans.Trade.Inventory;

[GenerateSerializer]
public sealed class WarehouseRegistryState
{
    [Id(0)] public Dictionary<string, Warehouse> Warehouses { get; set; } = new(StringComparer.Ordinal);
}

public sealed class WarehouseRegistryGrain(
    [PersistentState(stateName: "warehouse-registry", storageName: StorageNames.Trade)] IPersistentState<WarehouseRegistryState> state,
    TradeClock clock,
    CachedWarehouses cache) : Grain, IWarehouseRegistryGrain
{
    /// <summary>
    /// The warehouses as stored, which the interleaving reads answer: a registration is written as a new dictionary and taken
    /// here once memory is again what storage holds (read while its write was in flight, a warehouse whose write then failed took
    /// stock and ranked in checkouts).
    /// </summary>
    private Dictionary<string, Warehouse> _stored = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stored = state.State.Warehouses;
        return Task.CompletedTask;
    }

    public async Task<Warehouse> Register(string warehouseId, string name, string country) =>
        await RegisterIfRoom(warehouseId, name, country)
        ?? throw new InvalidOperationException($"At most {WarehouseRegistry.MaxWarehouses} warehouses can be registered.");

    public async Task<Warehouse?> RegisterIfRoom(string warehouseId, string name, string country)
    {
        var warehouses = state.State.Warehouses;
        if (!warehouses.TryGetValue(warehouseId, out var existing) && warehouses.Count >= WarehouseRegistry.MaxWarehouses)
        {
            return null;
        }
        var warehouse = new Warehouse(warehouseId, name, country, existing?.RegisteredAt ?? clock.GetUtcNow());
        if (warehouse == existing)
        {
            return existing;
        }
        state.State.Warehouses = new Dictionary<string, Warehouse>(warehouses, StringComparer.Ordinal) { [warehouseId] = warehouse };
        await state.WriteOrReloadAsync(this, () =>
        {
            _stored = state.State.Warehouses;
            cache.Invalidate();
        });
        return warehouse;
    }

    public Task<Warehouse?> Find(string warehouseId) => Task.FromResult(_stored.GetValueOrDefault(warehouseId));

    public Task<IReadOnlyList<Warehouse>> List() =>
        Task.FromResult<IReadOnlyList<Warehouse>>(_stored.Values.OrderBy(w => w.WarehouseId, StringComparer.Ordinal).ToArray());
}
