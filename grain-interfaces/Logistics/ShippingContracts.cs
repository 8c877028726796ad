using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

/// <summary>A weight tier of a shipping zone: parcels up to <see cref="UpToGrams"/> ship for <see cref="FeeMinor"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record WeightTier(
    [property: Id(0)] int UpToGrams,
    [property: Id(1)] long FeeMinor);

/// <summary>
/// Where a template ships and for how much (R-LOG-1): the destination countries (ISO 3166-1 alpha-2, or <c>*</c> for every
/// country no other zone names), weight tiers in ascending order (a parcel heavier than the last is not shipped there), the goods
/// value from which shipping is free, and a promotion window in which it is free.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ShippingZone(
    [property: Id(0)] IReadOnlyList<string> Countries,
    [property: Id(1)] IReadOnlyList<WeightTier> Tiers,
    [property: Id(2)] long? FreeFromMinor = null,
    [property: Id(3)] DateTimeOffset? FreeFrom = null,
    [property: Id(4)] DateTimeOffset? FreeUntil = null);

/// <summary>A seller's shipping template (R-LOG-1): its zones, priced in <see cref="Currency"/> (the currency of the SKUs that use it).</summary>
[GenerateSerializer, Immutable]
public sealed record ShippingTemplate(
    [property: Id(0)] string SellerId,
    [property: Id(1)] string TemplateId,
    [property: Id(2)] string Name,
    [property: Id(3)] string Currency,
    [property: Id(4)] IReadOnlyList<ShippingZone> Zones,
    [property: Id(5)] long Version,
    [property: Id(6)] DateTimeOffset UpdatedAt);

/// <summary>What a parcel of a template's goods costs to a destination, or why it does not ship there.</summary>
public sealed record ShippingQuote(Money? Fee, bool Free, string? Refusal);

/// <summary>The pure rules of shipping templates: their limits, their checks, and the fee of a parcel.</summary>
public static class ShippingRules
{
    public const int MaxZones = 50;
    public const int MaxTiers = 20;
    public const int MaxCountriesPerZone = DestinationCountries.Max;
    public const int MaxTemplatesPerSeller = 100;
    public const int MaxNameLength = 200;
    public const long MaxFeeMinor = 100_000_000;
    public const string Elsewhere = DestinationCountries.Elsewhere;

    /// <summary>Every problem with a template's zones, each with the request field at fault; empty when they are right.</summary>
    public static IReadOnlyList<(string Field, string Rule)> Check(IReadOnlyList<ShippingZone> zones)
    {
        var problems = new List<(string, string)>();
        if (zones.Count is 0 or > MaxZones)
        {
            problems.Add(("zones", $"zones holds 1 to {MaxZones} zones."));
            return problems;
        }
        var named = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var z = 0; z < zones.Count; z++)
        {
            var zone = zones[z];
            var at = $"zones[{z}]";
            DestinationCountries.Check(problems, $"{at}.countries", zone.Countries, DestinationCountries.Once(problems, "zones", z, named));
            if (zone.Tiers.Count is 0 or > MaxTiers)
            {
                problems.Add(($"{at}.tiers", $"{at}.tiers holds 1 to {MaxTiers} weight tiers."));
            }
            for (var t = 0; t < zone.Tiers.Count; t++)
            {
                var tier = zone.Tiers[t];
                if (tier.UpToGrams <= 0 || t > 0 && tier.UpToGrams <= zone.Tiers[t - 1].UpToGrams)
                {
                    problems.Add(($"{at}.tiers[{t}].upToGrams", $"{at}.tiers[{t}].upToGrams must be positive and above the tier before's."));
                }
                if (tier.FeeMinor is < 0 or > MaxFeeMinor)
                {
                    problems.Add(($"{at}.tiers[{t}].feeMinor", $"{at}.tiers[{t}].feeMinor must be 0 to {MaxFeeMinor}."));
                }
            }
            if (zone.FreeFromMinor is < 1)
            {
                problems.Add(($"{at}.freeFromMinor", $"{at}.freeFromMinor must be positive (leave it out for no threshold)."));
            }
            if (zone.FreeFrom is null != zone.FreeUntil is null || zone.FreeFrom >= zone.FreeUntil)
            {
                problems.Add(($"{at}.freeUntil", $"A free-shipping promotion gives both {at}.freeFrom and {at}.freeUntil, the one before the other."));
            }
        }
        return problems;
    }

    /// <summary>
    /// The fee of a parcel of <paramref name="weightGrams"/> whose goods are worth <paramref name="goodsMinor"/> (the template's
    /// currency) to <paramref name="country"/> at <paramref name="now"/>: the zone naming the country, else the <c>*</c> zone; the
    /// first tier that takes the weight; free from the zone's threshold or within its promotion.
    /// </summary>
    public static ShippingQuote Quote(ShippingTemplate template, string country, long weightGrams, long goodsMinor, DateTimeOffset now)
    {
        var zone = DestinationCountries.For(template.Zones, z => z.Countries, country);
        if (zone is null)
        {
            return new ShippingQuote(null, false, $"does not ship to {country} (shipping template '{template.TemplateId}')");
        }
        WeightTier? tier = null;
        foreach (var candidate in zone.Tiers)
        {
            if (weightGrams <= candidate.UpToGrams)
            {
                tier = candidate;
                break;
            }
        }
        if (tier is null)
        {
            return new ShippingQuote(null, false,
                $"weighs {weightGrams} g, more than the {zone.Tiers[^1].UpToGrams} g shipping template '{template.TemplateId}' ships to {country} in one parcel");
        }
        var free = goodsMinor >= zone.FreeFromMinor || now >= zone.FreeFrom && now < zone.FreeUntil;
        return new ShippingQuote(new Money(free ? 0 : tier.FeeMinor, template.Currency), free, null);
    }
}

/// <summary>What a template write did.</summary>
public enum ShippingTemplateWriteStatus
{
    Created,
    Updated,
    Unchanged,
    /// <summary>The seller holds as many templates as it may.</summary>
    TooMany,
    /// <summary>The template exists in another currency: the SKUs that use it are priced in that one.</summary>
    CurrencyChanged,
}

[GenerateSerializer, Immutable]
public sealed record ShippingTemplateWrite(
    [property: Id(0)] ShippingTemplateWriteStatus Status,
    [property: Id(1)] ShippingTemplate? Template);

/// <summary>
/// One seller's shipping templates (R-LOG-1) and carrier rules (R-LOG-3). Key: the seller id. Version 1 added the carrier rules
/// (<see cref="PutCarrierRules"/>, <see cref="GetCarrierRules"/>).
/// </summary>
[Orleans.CodeGeneration.Version(1)]
public interface ISellerShippingGrain : IGrainWithStringKey
{
    /// <summary>Creates or replaces a template (at most <see cref="ShippingRules.MaxTemplatesPerSeller"/> per seller).</summary>
    Task<ShippingTemplateWrite> Put(string templateId, string name, string currency, IReadOnlyList<ShippingZone> zones);

    [ReadOnly, AlwaysInterleave]
    Task<ShippingTemplate?> Get(string templateId);

    [ReadOnly]
    Task<IReadOnlyList<ShippingTemplate>> List();

    /// <summary>Replaces the seller's carrier rules (<see cref="CarrierRules.CheckRules"/> has checked them).</summary>
    Task<SellerCarrierRules> PutCarrierRules(IReadOnlyList<CarrierRule> rules, CarrierPreference otherwise, string? currency);

    /// <summary>The seller's carrier rules; <see cref="SellerCarrierRules.Default"/> when it set none.</summary>
    [ReadOnly, AlwaysInterleave]
    Task<SellerCarrierRules> GetCarrierRules();
}
