namespace Orleans.Trade.Inventory;

[GenerateSerializer, Immutable]
public sealed record Warehouse(
    [property: Id(0)] string WarehouseId,
    [property: Id(1)] string Name,
    [property: Id(2)] string Country,
    [property: Id(3)] DateTimeOffset RegisteredAt);

/// <summary>The registry of warehouses (a few thousand at most). Key: <see cref="WarehouseRegistry.Key"/>.</summary>
public interface IWarehouseRegistryGrain : IGrainWithStringKey
{
    /// <summary>Registers or renames a warehouse; throws <see cref="InvalidOperationException"/> when the registry is full.</summary>
    Task<Warehouse> Register(string warehouseId, string name, string country);

    /// <summary>Registers or renames a warehouse; null when it is new and the registry is full (<see cref="WarehouseRegistry.MaxWarehouses"/>).</summary>
    Task<Warehouse?> RegisterIfRoom(string warehouseId, string name, string country);

    [ReadOnly, AlwaysInterleave]
    Task<Warehouse?> Find(string warehouseId);

    [ReadOnly, AlwaysInterleave]
    Task<IReadOnlyList<Warehouse>> List();
}

public static class WarehouseRegistry
{
    public const string Key = "all";
    /// <summary>Every checkout ranks all of them by distance to the buyer (R-INV-4), so the registry holds no more than that ranks.</summary>
    public const int MaxWarehouses = 1_024;
}
