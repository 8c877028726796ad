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
    Task<Warehouse> Register(string warehouseId, string name, string country);

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
