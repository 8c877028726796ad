using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

/// <summary>
/// Goods that carriers and destinations restrict (R-LOG-2): a SKU names the classes its goods belong to; a carrier takes each
/// class to the countries it names; a destination may prohibit a class outright.
/// </summary>
public enum GoodsClass
{
    /// <summary>Lithium batteries, alone or in equipment.</summary>
    Batteries,
    Liquids,
    /// <summary>Creams, gels and pastes.</summary>
    Pastes,
    Powders,
    Magnets,
    Flammables,
    /// <summary>Knives, blades and other sharp objects.</summary>
    SharpObjects,
    Perishables,
}

public enum CarrierService
{
    /// <summary>A national post and its partners (e.g. ePacket): cheap, slow, light parcels.</summary>
    Postal,
    /// <summary>An express integrator (DHL, FedEx, UPS …): fast, tracked, dear.</summary>
    Express,
    /// <summary>A dedicated line to a region (consolidated air freight and local last mile).</summary>
    DedicatedLine,
}

/// <summary>
/// Where a carrier goes and for how much: to <see cref="Countries"/> (ISO 3166-1 alpha-2, or <c>*</c> for every country no other lane
/// names), in <see cref="TransitDaysMin"/> to <see cref="TransitDaysMax"/> days, for <see cref="BaseFeeMinor"/> a parcel plus
/// <see cref="PerKgFeeMinor"/> a kilogram, charged by the gram and rounded up (the carrier's currency).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CarrierLane(
    [property: Id(0)] IReadOnlyList<string> Countries,
    [property: Id(1)] int TransitDaysMin,
    [property: Id(2)] int TransitDaysMax,
    [property: Id(3)] long BaseFeeMinor,
    [property: Id(4)] long PerKgFeeMinor);

/// <summary>A restricted class of goods the carrier takes, to <see cref="Countries"/> (or <c>*</c>: wherever its lanes go).</summary>
[GenerateSerializer, Immutable]
public sealed record CarrierAcceptance(
    [property: Id(0)] GoodsClass Goods,
    [property: Id(1)] IReadOnlyList<string> Countries);

/// <summary>A carrier the platform works with (R-LOG-3), its lanes, weight limit and the restricted goods it takes (R-LOG-2).</summary>
[GenerateSerializer, Immutable]
public sealed record Carrier(
    [property: Id(0)] string CarrierId,
    [property: Id(1)] string Name,
    [property: Id(2)] CarrierService Service,
    [property: Id(3)] string Currency,
    [property: Id(4)] int MaxWeightGrams,
    [property: Id(5)] bool Tracked,
    [property: Id(6)] IReadOnlyList<CarrierLane> Lanes,
    [property: Id(7)] IReadOnlyList<CarrierAcceptance> Accepts,
    [property: Id(8)] bool Enabled,
    [property: Id(9)] long Version,
    [property: Id(10)] DateTimeOffset UpdatedAt);

/// <summary>Goods no carrier may take to <see cref="Country"/> (R-LOG-2: its customs prohibit them).</summary>
[GenerateSerializer, Immutable]
public sealed record DestinationRestriction(
    [property: Id(0)] string Country,
    [property: Id(1)] IReadOnlyList<GoodsClass> Prohibited,
    [property: Id(2)] DateTimeOffset UpdatedAt);

/// <summary>The platform's carriers and destinations' prohibitions, as one read.</summary>
[GenerateSerializer, Immutable]
public sealed record CarrierCatalog(
    [property: Id(0)] IReadOnlyList<Carrier> Carriers,
    [property: Id(1)] IReadOnlyList<DestinationRestriction> Restrictions)
{
    public static readonly CarrierCatalog Empty = new([], []);
}

/// <summary>How much a seller's rule weighs price against speed when it picks a carrier (R-LOG-3).</summary>
public enum CarrierPreference
{
    /// <summary>The lowest cost; the shorter transit between equal costs.</summary>
    Cheapest,
    /// <summary>The shortest longest-transit; the lower cost between equal transits.</summary>
    Fastest,
    /// <summary>The lowest sum of cost over the cheapest's and longest transit over the fastest's.</summary>
    Balanced,
}

/// <summary>
/// A seller's rule for picking a carrier (R-LOG-3): it applies to parcels to <see cref="Countries"/> (all when null) whose weight
/// and goods value are within its bounds (value in the rule set's currency), and picks by <see cref="Prefer"/> among
/// <see cref="CarrierIds"/> (all when null), tracked ones only when <see cref="RequireTracked"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CarrierRule(
    [property: Id(0)] IReadOnlyList<string>? Countries,
    [property: Id(1)] int? MinWeightGrams,
    [property: Id(2)] int? MaxWeightGrams,
    [property: Id(3)] long? MinValueMinor,
    [property: Id(4)] long? MaxValueMinor,
    [property: Id(5)] CarrierPreference Prefer,
    [property: Id(6)] IReadOnlyList<string>? CarrierIds,
    [property: Id(7)] bool RequireTracked);

/// <summary>A seller's carrier rules, tried in order (the first that applies picks); none applies: <see cref="Otherwise"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record SellerCarrierRules(
    [property: Id(0)] string SellerId,
    [property: Id(1)] IReadOnlyList<CarrierRule> Rules,
    [property: Id(2)] CarrierPreference Otherwise,
    [property: Id(3)] string? Currency,
    [property: Id(4)] long Version,
    [property: Id(5)] DateTimeOffset UpdatedAt)
{
    public static SellerCarrierRules Default(string sellerId) => new(sellerId, [], CarrierPreference.Balanced, null, 0, DateTimeOffset.MinValue);
}

/// <summary>What a write of the registry did.</summary>
public enum CarrierWriteStatus { Created, Updated, Unchanged, TooMany }

[GenerateSerializer, Immutable]
public sealed record CarrierWrite(
    [property: Id(0)] CarrierWriteStatus Status,
    [property: Id(1)] Carrier? Carrier);

/// <summary>The platform's carriers and destination prohibitions (R-LOG-2, R-LOG-3). Key: <see cref="Key"/>.</summary>
[Orleans.CodeGeneration.Version(1)]
public interface ICarrierRegistryGrain : IGrainWithStringKey
{
    public const string Key = "platform";

    Task<CarrierWrite> PutCarrier(string carrierId, string name, CarrierService service, string currency, int maxWeightGrams, bool tracked,
        IReadOnlyList<CarrierLane> lanes, IReadOnlyList<CarrierAcceptance> accepts, bool enabled);

    /// <summary>Sets the goods no carrier may take to the country (an empty list lifts its prohibitions).</summary>
    Task<DestinationRestriction> PutRestriction(string country, IReadOnlyList<GoodsClass> prohibited);

    [ReadOnly, AlwaysInterleave]
    Task<CarrierCatalog> Get();
}

/// <summary>Plans parcels' carriers (R-LOG-2, R-LOG-3) from the registry, the seller's rules, the SKUs' weights and goods, and the rates.</summary>
[Orleans.CodeGeneration.Version(1)]
public interface ICarrierPlannerGrain : IGrainWithIntegerKey
{
    /// <summary>The carriers for the order's parcel: to its ship-to country, its lines' weight and restricted goods, its goods value.</summary>
    Task<CarrierPlan> PlanOrder(Orders.OrderView order);

    /// <summary>The carriers for a parcel of the seller's.</summary>
    Task<CarrierPlan> PlanParcel(string sellerId, ParcelFacts parcel);

    /// <summary>
    /// Why the order's parcel cannot ship with <paramref name="carrier"/> (R-LOG-2): its destination prohibits its goods, or the
    /// carrier is registered (by id or name, in any case and spacing) and cannot take it; null when it may.
    /// </summary>
    Task<string?> ShipRefusal(Orders.OrderView order, string carrier);

    /// <summary>The parcel <paramref name="quantity"/> units of the SKU make, to the country; null when the SKU does not exist.</summary>
    Task<(string SellerId, ParcelFacts Parcel)?> SkuParcel(string skuId, long quantity, string country);
}
