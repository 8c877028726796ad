using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Orders;

public sealed class WarehouseRankingTests
{
    private static readonly (string WarehouseId, string Country)[] Global =
    [
        ("wh-cn-1", "CN"),
        ("wh-fr-1", "FR"),
        ("wh-de-1", "DE"),
        ("wh-us-1", "US"),
    ];

    [Fact]
    public void German_buyer_gets_the_german_warehouse_then_the_french_then_the_chinese()
    {
        var ranked = WarehouseRanking.Rank("DE", Global.Where(w => w.Country != "US"), RegionMap.Default);

        Assert.Equal(["wh-de-1", "wh-fr-1", "wh-cn-1"], ranked);
    }

    [Fact]
    public void American_buyer_gets_the_us_warehouse_before_the_chinese()
    {
        var ranked = WarehouseRanking.Rank("US", [("wh-cn-1", "CN"), ("wh-us-1", "US")], RegionMap.Default);

        Assert.Equal(["wh-us-1", "wh-cn-1"], ranked);
    }

    [Fact]
    public void French_buyer_is_served_from_poland_rather_than_china()
    {
        var ranked = WarehouseRanking.Rank("FR", [("wh-cn-1", "CN"), ("wh-pl-1", "PL")], RegionMap.Default);

        Assert.Equal("wh-pl-1", ranked[0]);
    }

    [Fact]
    public void Overseas_warehouse_serves_its_own_region_before_the_origin()
    {
        // A seller shipping from China with an overseas warehouse in Spain: Italian buyers get Spain, Thai buyers China.
        (string, string)[] warehouses = [("wh-cn-1", "CN"), ("wh-es-1", "ES")];

        Assert.Equal("wh-es-1", WarehouseRanking.Rank("IT", warehouses, RegionMap.Default)[0]);
        Assert.Equal("wh-cn-1", WarehouseRanking.Rank("TH", warehouses, RegionMap.Default)[0]);
    }

    [Fact]
    public void Equal_distances_break_ties_by_warehouse_id()
    {
        var ranked = WarehouseRanking.Rank("AT", [("wh-b", "FR"), ("wh-a", "PL"), ("wh-c", "DE")], RegionMap.Default);

        Assert.Equal(["wh-a", "wh-b", "wh-c"], ranked);
    }

    [Fact]
    public void Configured_regions_and_distances_change_the_order()
    {
        (string, string)[] warehouses = [("wh-cn-1", "CN"), ("wh-us-1", "US")];
        Assert.Equal("wh-us-1", WarehouseRanking.Rank("DE", warehouses, RegionMap.Default)[0]);

        var options = new AllocationOptions { RegionDistances = new() { ["EU"] = new() { ["CN"] = 2 } } };

        Assert.Equal(["wh-cn-1", "wh-us-1"], WarehouseRanking.Rank("DE", warehouses, options.ToRegionMap()));
    }

    [Fact]
    public void Configured_distance_overrides_the_default_whichever_direction_it_is_written()
    {
        var options = new AllocationOptions { RegionDistances = new() { ["CN"] = new() { ["EU"] = 2 } } };
        var map = options.ToRegionMap();

        Assert.Equal(21, map.Distance("DE", "CN"));
        Assert.Equal(21, map.Distance("CN", "DE"));
        Assert.Equal(41, RegionMap.Default.Distance("DE", "CN"));
    }

    [Fact]
    public void Configured_country_region_moves_the_country()
    {
        var options = new AllocationOptions { CountryRegions = new() { ["TR"] = "EU" } };

        Assert.Equal("wh-de-1", WarehouseRanking.Rank("TR", [("wh-ae-1", "AE"), ("wh-de-1", "DE")], options.ToRegionMap())[0]);
        Assert.Equal("wh-ae-1", WarehouseRanking.Rank("TR", [("wh-ae-1", "AE"), ("wh-de-1", "DE")], RegionMap.Default)[0]);
    }

    [Fact]
    public void Distance_is_zero_in_the_same_country_one_in_the_same_region()
    {
        Assert.Equal(0, RegionMap.Default.Distance("DE", "DE"));
        Assert.Equal(1, RegionMap.Default.Distance("DE", "FR"));
        Assert.Equal(11, RegionMap.Default.Distance("DE", "GB"));
        Assert.Equal(11, RegionMap.Default.Distance("CN", "JP"));
        Assert.Equal(31, RegionMap.Default.Distance("DE", "US"));
        Assert.Equal(1, RegionMap.Default.Distance("CN", "HK"));
    }

    [Fact]
    public void Unknown_country_is_ranked_behind_every_known_one()
    {
        Assert.Equal(1 + 10 * RegionMap.UnknownRegionDistance, RegionMap.Default.Distance("DE", "AQ"));
        Assert.Equal(["wh-au-1", "wh-x"], WarehouseRanking.Rank("DE", [("wh-x", "AQ"), ("wh-au-1", "AU")], RegionMap.Default));
    }

    [Fact]
    public void Default_distances_are_symmetric_and_zero_within_a_region()
    {
        var map = RegionMap.Default;
        string[] regions = ["EU", "UK", "NA", "LATAM", "CN", "EAST_ASIA", "SEA", "SOUTH_ASIA", "OCEANIA", "MENA", "AFRICA", "CIS"];
        foreach (var a in regions)
        {
            Assert.Equal(0, map.RegionDistance(a, a));
            foreach (var b in regions.Where(b => b != a))
            {
                Assert.Equal(map.RegionDistance(a, b), map.RegionDistance(b, a));
                Assert.InRange(map.RegionDistance(a, b), 1, 9);
            }
        }
    }

    [Theory]
    [InlineData("US", "NA")]
    [InlineData("CA", "NA")]
    [InlineData("MX", "NA")]
    [InlineData("HK", "CN")]
    [InlineData("TW", "CN")]
    [InlineData("MO", "CN")]
    [InlineData("JP", "EAST_ASIA")]
    [InlineData("KR", "EAST_ASIA")]
    [InlineData("RU", "CIS")]
    [InlineData("KZ", "CIS")]
    [InlineData("GB", "UK")]
    [InlineData("BR", "LATAM")]
    [InlineData("SG", "SEA")]
    [InlineData("IN", "SOUTH_ASIA")]
    [InlineData("AU", "OCEANIA")]
    [InlineData("SA", "MENA")]
    [InlineData("NG", "AFRICA")]
    [InlineData("PL", "EU")]
    public void Default_map_places_major_destinations(string country, string region)
    {
        Assert.Equal(region, RegionMap.Default.RegionOf(country));
    }

    [Fact]
    public void Default_map_places_every_inhabited_iso_country()
    {
        // Antarctica and the uninhabited southern islands have no buyers.
        string[] unplaced = ["AQ", "BV", "GS", "TF"];
        var known = (from a in Enumerable.Range('A', 26)
                     from b in Enumerable.Range('A', 26)
                     let code = $"{(char)a}{(char)b}"
                     where Iso3166.IsKnown(code)
                     select code).ToArray();

        Assert.True(known.Length > 240);
        Assert.Equal(unplaced, known.Where(c => RegionMap.Default.RegionOf(c) is null));
    }

    [Fact]
    public void Map_refuses_bad_configuration()
    {
        Assert.Throws<ArgumentException>(() => new AllocationOptions { CountryRegions = new() { ["de"] = "EU" } }.ToRegionMap());
        Assert.Throws<ArgumentException>(() => new AllocationOptions { RegionDistances = new() { ["EU"] = new() { ["CN"] = -1 } } }.ToRegionMap());
        Assert.Throws<ArgumentException>(() => new AllocationOptions { RegionDistances = new() { ["EU"] = new() { ["EU"] = 3 } } }.ToRegionMap());
        Assert.Throws<ArgumentException>(() => new RegionMap(new(), new()
        {
            ["EU"] = new() { ["CN"] = 2 },
            ["CN"] = new() { ["EU"] = 3 },
        }));
    }

    [Fact]
    public void Same_warehouse_listed_twice_is_refused()
    {
        Assert.Throws<ArgumentException>(() => WarehouseRanking.Rank("DE", [("wh-1", "DE"), ("wh-1", "FR")], RegionMap.Default));
    }
}
