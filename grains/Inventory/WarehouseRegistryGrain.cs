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
        warehouses[warehouseId] = warehouse;
        await state.WriteOrReloadAsync(this);
        cache.Invalidate();
        return warehouse;
    }

    public Task<Warehouse?> Find(string warehouseId) => Task.FromResult(state.State.Warehouses.GetValueOrDefault(warehouseId));

    public Task<IReadOnlyList<Warehouse>> List() =>
        Task.FromResult<IReadOnlyList<Warehouse>>(state.State.Warehouses.Values.OrderBy(w => w.WarehouseId, StringComparer.Ordinal).ToArray());
}
