using System.Collections.Frozen;
using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>
/// Shipping regions and how far apart they are (R-INV-4): countries map to regions, regions to a symmetric matrix of small
/// distances, 0 within a region. Only relative order matters: the numbers rank warehouses, they are not kilometres.
/// </summary>
public sealed class RegionMap
{
    /// <summary>Distance of a country or region the map does not know: behind every known one.</summary>
    public const int UnknownRegionDistance = 100;

    /// <summary>Upper bound of regions in one map: a configuration, not a data set.</summary>
    public const int MaxRegions = 64;

    private readonly FrozenDictionary<string, string> _regionByCountry;
    private readonly FrozenDictionary<(string, string), int> _distanceByRegionPair;

    /// <param name="countryToRegion">ISO 3166-1 alpha-2 code (upper case) to region name.</param>
    /// <param name="regionDistances">Region to region to distance (0..<see cref="UnknownRegionDistance"/>); one direction is enough.</param>
    public RegionMap(Dictionary<string, string> countryToRegion, Dictionary<string, Dictionary<string, int>> regionDistances)
        : this(ValidateCountries(countryToRegion), PairsOf(regionDistances))
    {
    }

    private RegionMap(Dictionary<string, string> countryToRegion, Dictionary<(string, string), int> distances)
    {
        var regions = countryToRegion.Values.Concat(distances.Keys.SelectMany(pair => new[] { pair.Item1, pair.Item2 }))
            .Distinct(StringComparer.Ordinal).Count();
        if (regions > MaxRegions)
        {
            throw new ArgumentException($"A region map holds at most {MaxRegions} regions; this one names {regions}.");
        }
        _regionByCountry = countryToRegion.ToFrozenDictionary(StringComparer.Ordinal);
        _distanceByRegionPair = distances.ToFrozenDictionary();
    }

    /// <summary>The built-in regions: every ISO country with a sensible shipping region, distances from typical transit.</summary>
    public static RegionMap Default { get; } = new(DefaultRegions.Countries(), DefaultRegions.Distances());

    /// <summary>The region of <paramref name="country"/>, or null when the map does not place it.</summary>
    public string? RegionOf(string country) => _regionByCountry.GetValueOrDefault(country);

    /// <summary>0 within a region, the configured distance between two known regions, <see cref="UnknownRegionDistance"/> otherwise.</summary>
    public int RegionDistance(string fromRegion, string toRegion)
    {
        if (string.Equals(fromRegion, toRegion, StringComparison.Ordinal))
        {
            return 0;
        }
        return _distanceByRegionPair.TryGetValue(Pair(fromRegion, toRegion), out var distance) ? distance : UnknownRegionDistance;
    }

    /// <summary>0 for the same country, otherwise 1 + 10 × region distance (so 1 within a region).</summary>
    public int Distance(string fromCountry, string toCountry)
    {
        ArgumentNullException.ThrowIfNull(fromCountry);
        ArgumentNullException.ThrowIfNull(toCountry);
        if (string.Equals(fromCountry, toCountry, StringComparison.Ordinal))
        {
            return 0;
        }
        var fromRegion = RegionOf(fromCountry);
        var toRegion = RegionOf(toCountry);
        var regionDistance = fromRegion is null || toRegion is null ? UnknownRegionDistance : RegionDistance(fromRegion, toRegion);
        return checked(1 + regionDistance * 10);
    }

    /// <summary>This map with <paramref name="countryToRegion"/> and <paramref name="regionDistances"/> laid over it; the overlay wins.</summary>
    internal RegionMap Overlay(Dictionary<string, string> countryToRegion, Dictionary<string, Dictionary<string, int>> regionDistances)
    {
        var countries = new Dictionary<string, string>(_regionByCountry, StringComparer.Ordinal);
        foreach (var (country, region) in ValidateCountries(countryToRegion))
        {
            countries[country] = region;
        }
        var distances = new Dictionary<(string, string), int>(_distanceByRegionPair);
        foreach (var (pair, distance) in PairsOf(regionDistances))
        {
            distances[pair] = distance;
        }
        return new RegionMap(countries, distances);
    }

    // One key per unordered pair keeps the matrix symmetric whichever direction the configuration names.
    private static (string, string) Pair(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);

    private static Dictionary<string, string> ValidateCountries(Dictionary<string, string> countryToRegion)
    {
        ArgumentNullException.ThrowIfNull(countryToRegion);
        foreach (var (country, region) in countryToRegion)
        {
            if (!Iso3166.IsKnown(country))
            {
                throw new ArgumentException($"'{country}' is not an ISO 3166-1 alpha-2 code in upper case.", nameof(countryToRegion));
            }
            if (string.IsNullOrWhiteSpace(region))
            {
                throw new ArgumentException($"Country '{country}' is mapped to a blank region.", nameof(countryToRegion));
            }
        }
        return countryToRegion;
    }

    private static Dictionary<(string, string), int> PairsOf(Dictionary<string, Dictionary<string, int>> regionDistances)
    {
        ArgumentNullException.ThrowIfNull(regionDistances);
        var pairs = new Dictionary<(string, string), int>();
        foreach (var (from, row) in regionDistances)
        {
            foreach (var (to, distance) in row ?? [])
            {
                if (string.IsNullOrWhiteSpace(from) || string.IsNullOrWhiteSpace(to))
                {
                    throw new ArgumentException("Region names in the distance matrix must not be blank.", nameof(regionDistances));
                }
                if (distance is < 0 or > UnknownRegionDistance)
                {
                    throw new ArgumentException($"Distance {from}–{to} is {distance}; it must be between 0 and {UnknownRegionDistance}.", nameof(regionDistances));
                }
                if (string.Equals(from, to, StringComparison.Ordinal))
                {
                    if (distance != 0)
                    {
                        throw new ArgumentException($"Distance within region {from} is always 0, not {distance}.", nameof(regionDistances));
                    }
                    continue;
                }
                var pair = Pair(from, to);
                if (pairs.TryGetValue(pair, out var earlier) && earlier != distance)
                {
                    throw new ArgumentException($"Distance {from}–{to} is given both as {earlier} and {distance}.", nameof(regionDistances));
                }
                pairs[pair] = distance;
            }
        }
        return pairs;
    }

    /// <summary>The built-in data behind <see cref="Default"/>.</summary>
    private static class DefaultRegions
    {
        // French overseas departments and US territories go with their geography: that is where a parcel travels.
        private static readonly (string Region, string Countries)[] Members =
        [
            ("EU", "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE " +
                   "IS LI NO CH AD MC SM VA AL BA ME MK RS FO AX SJ"),
            ("UK", "GB IM JE GG GI"),
            ("NA", "US CA MX PR VI UM BM GL PM"),
            ("LATAM", "AR BO BR CL CO EC GY PY PE SR UY VE GF FK BZ CR SV GT HN NI PA " +
                      "AG AI AW BB BS BQ CU CW DM DO GD HT JM KN KY LC MS SX TC TT VC VG GP MQ MF BL"),
            ("CN", "CN HK MO TW"),
            ("EAST_ASIA", "JP KR KP MN"),
            ("SEA", "BN KH ID LA MY MM PH SG TH TL VN"),
            ("SOUTH_ASIA", "AF BD BT IN MV NP PK LK IO"),
            ("OCEANIA", "AU NZ FJ PG SB VU NC PF WS TO KI TV NR FM MH PW CK NU TK WF NF CX CC GU MP AS PN HM"),
            ("MENA", "AE BH DZ EG IQ IR IL JO KW LB LY MA OM PS QA SA SY TN TR YE EH SD"),
            ("AFRICA", "AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ GQ ER SZ ET GA GM GH GN GW KE LS LR MG MW ML MR MU " +
                       "MZ NA NE NG RW ST SN SC SL SO SS TZ TG UG ZM ZW ZA RE YT SH"),
            ("CIS", "RU BY UA KZ KG TJ TM UZ AM AZ GE MD"),
        ];

        // Upper triangle only; Pair() mirrors it.
        private static readonly (string From, string To, int Distance)[] Matrix =
        [
            ("EU", "UK", 1), ("EU", "CIS", 2), ("EU", "MENA", 2), ("EU", "AFRICA", 3), ("EU", "NA", 3), ("EU", "SOUTH_ASIA", 3),
            ("EU", "LATAM", 4), ("EU", "CN", 4), ("EU", "EAST_ASIA", 4), ("EU", "SEA", 4), ("EU", "OCEANIA", 5),
            ("UK", "CIS", 3), ("UK", "MENA", 2), ("UK", "AFRICA", 3), ("UK", "NA", 3), ("UK", "SOUTH_ASIA", 3),
            ("UK", "LATAM", 4), ("UK", "CN", 4), ("UK", "EAST_ASIA", 4), ("UK", "SEA", 4), ("UK", "OCEANIA", 5),
            ("NA", "LATAM", 1), ("NA", "CN", 3), ("NA", "EAST_ASIA", 3), ("NA", "OCEANIA", 3), ("NA", "SEA", 4),
            ("NA", "MENA", 4), ("NA", "AFRICA", 4), ("NA", "CIS", 4), ("NA", "SOUTH_ASIA", 5),
            ("LATAM", "AFRICA", 3), ("LATAM", "CN", 4), ("LATAM", "EAST_ASIA", 4), ("LATAM", "OCEANIA", 4), ("LATAM", "MENA", 4),
            ("LATAM", "SEA", 5), ("LATAM", "SOUTH_ASIA", 5), ("LATAM", "CIS", 5),
            ("CN", "EAST_ASIA", 1), ("CN", "SEA", 1), ("CN", "SOUTH_ASIA", 2), ("CN", "OCEANIA", 2), ("CN", "CIS", 2),
            ("CN", "MENA", 3), ("CN", "AFRICA", 4),
            ("EAST_ASIA", "SEA", 2), ("EAST_ASIA", "OCEANIA", 2), ("EAST_ASIA", "CIS", 2), ("EAST_ASIA", "SOUTH_ASIA", 3),
            ("EAST_ASIA", "MENA", 4), ("EAST_ASIA", "AFRICA", 5),
            ("SEA", "SOUTH_ASIA", 1), ("SEA", "OCEANIA", 1), ("SEA", "MENA", 3), ("SEA", "CIS", 3), ("SEA", "AFRICA", 4),
            ("SOUTH_ASIA", "MENA", 1), ("SOUTH_ASIA", "OCEANIA", 2), ("SOUTH_ASIA", "CIS", 2), ("SOUTH_ASIA", "AFRICA", 3),
            ("OCEANIA", "MENA", 4), ("OCEANIA", "AFRICA", 4), ("OCEANIA", "CIS", 4),
            ("MENA", "AFRICA", 1), ("MENA", "CIS", 2),
            ("AFRICA", "CIS", 4),
        ];

        public static Dictionary<string, string> Countries()
        {
            var countries = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (region, codes) in Members)
            {
                foreach (var country in codes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    // Add, not the indexer: a country placed in two regions is a bug in this table.
                    countries.Add(country, region);
                }
            }
            return countries;
        }

        public static Dictionary<string, Dictionary<string, int>> Distances()
        {
            var distances = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
            foreach (var (from, to, distance) in Matrix)
            {
                if (!distances.TryGetValue(from, out var row))
                {
                    distances[from] = row = new Dictionary<string, int>(StringComparer.Ordinal);
                }
                row.Add(to, distance);
            }
            return distances;
        }
    }
}

/// <summary>R-INV-4: the warehouse nearest the buyer first; an overseas warehouse is nearest to buyers in its own region.</summary>
public static class WarehouseRanking
{
    /// <summary>Upper bound of warehouses ranked in one call: the whole registry.</summary>
    public const int MaxWarehouses = Inventory.WarehouseRegistry.MaxWarehouses;

    /// <summary>Warehouse ids, nearest to <paramref name="buyerCountry"/> first; equal distances in ordinal id order so the result is deterministic.</summary>
    public static IReadOnlyList<string> Rank(string buyerCountry, IEnumerable<(string WarehouseId, string Country)> warehouses, RegionMap map)
    {
        ArgumentNullException.ThrowIfNull(buyerCountry);
        ArgumentNullException.ThrowIfNull(warehouses);
        ArgumentNullException.ThrowIfNull(map);
        var candidates = new List<(string WarehouseId, int Distance)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (warehouseId, country) in warehouses)
        {
            ArgumentNullException.ThrowIfNull(warehouseId, nameof(warehouses));
            ArgumentNullException.ThrowIfNull(country, nameof(warehouses));
            if (!seen.Add(warehouseId))
            {
                throw new ArgumentException($"Warehouse '{warehouseId}' is listed twice.", nameof(warehouses));
            }
            if (candidates.Count == MaxWarehouses)
            {
                throw new ArgumentException($"At most {MaxWarehouses} warehouses can be ranked at once.", nameof(warehouses));
            }
            candidates.Add((warehouseId, map.Distance(buyerCountry, country)));
        }
        return candidates
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.WarehouseId, StringComparer.Ordinal)
            .Select(c => c.WarehouseId)
            .ToArray();
    }
}

/// <summary>Configuration of warehouse allocation: regions and distances laid over <see cref="RegionMap.Default"/>.</summary>
public sealed class AllocationOptions
{
    /// <summary>Country (ISO 3166-1 alpha-2) to region; replaces the default region of that country.</summary>
    public Dictionary<string, string> CountryRegions { get; set; } = new();

    /// <summary>Region to region to distance; replaces the default distance of that pair, in either direction.</summary>
    public Dictionary<string, Dictionary<string, int>> RegionDistances { get; set; } = new();

    public RegionMap ToRegionMap() => RegionMap.Default.Overlay(CountryRegions, RegionDistances);

    /// <summary>What makes these settings unusable, or null: checked at start-up (the map is built at the first order otherwise).</summary>
    public string? Problem()
    {
        try
        {
            _ = ToRegionMap();
            return null;
        }
        catch (ArgumentException e)
        {
            return $"Allocation settings: {e.Message}";
        }
    }
}
