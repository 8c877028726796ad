using Orleans.Trade.Common;
using Orleans.Trade.Logistics;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>The pure rules of carriers (R-LOG-2, R-LOG-3): costs, lanes, restricted goods, which rule applies and how it ranks.</summary>
public sealed class CarrierRulesTests
{
    private static Carrier Make(string id, long baseFee, long perKg, int daysMax, string currency = "USD", bool tracked = true, int maxWeight = 2_000,
        string[]? countries = null, CarrierAcceptance[]? accepts = null, bool enabled = true) =>
        new(id, id.ToUpperInvariant(), CarrierService.Postal, currency, maxWeight, tracked,
            [new CarrierLane(countries ?? ["*"], 1, daysMax, baseFee, perKg)], accepts ?? [], enabled, 1, DateTimeOffset.UnixEpoch);

    private static ParcelFacts Parcel(string country = "DE", long grams = 500, long valueMinor = 20_00, params GoodsClass[] goods) =>
        new(country, grams, goods, new Money(valueMinor, "USD"));

    private static Money? SameOrDouble(Money amount, string currency) =>
        amount.Currency == currency ? amount : currency == "USD" && amount.Currency == "EUR" ? new Money(amount.AmountMinor * 2, "USD") : null;

    [Theory]
    [InlineData(0, 0L)]
    [InlineData(1, 1L)]      // 900 per kg, 1 g: 0.9 rounded up
    [InlineData(1000, 900L)]
    [InlineData(1001, 901L)]
    [InlineData(1500, 1350L)]
    public void A_lanes_cost_is_its_base_fee_and_its_rate_by_the_gram_rounded_up(long grams, long perKgPart) =>
        Assert.Equal(150 + perKgPart, CarrierRules.Cost(new CarrierLane(["DE"], 1, 5, 150, 900), grams));

    [Fact]
    public void A_country_takes_its_own_lane_before_the_catch_all()
    {
        var carrier = Make("c", 0, 0, 5) with
        {
            Lanes = [new CarrierLane(["*"], 5, 9, 900, 0), new CarrierLane(["DE"], 1, 2, 100, 0)],
        };
        Assert.Equal(100, CarrierRules.Lane(carrier, "DE")!.BaseFeeMinor);
        Assert.Equal(900, CarrierRules.Lane(carrier, "JP")!.BaseFeeMinor);
        Assert.Null(CarrierRules.Lane(Make("d", 0, 0, 5, countries: ["FR"]), "DE"));
    }

    [Fact]
    public void A_carrier_cannot_take_what_it_does_not_take_where_it_does_not_go_above_its_weight_or_when_disabled()
    {
        var carrier = Make("post", 100, 0, 20, countries: ["DE", "FR"], accepts: [new CarrierAcceptance(GoodsClass.Batteries, ["FR"])]);
        Assert.Empty(CarrierRules.WhyNot(carrier, Parcel("DE")));
        Assert.Empty(CarrierRules.WhyNot(carrier, Parcel("FR", goods: GoodsClass.Batteries)));
        Assert.Single(CarrierRules.WhyNot(carrier, Parcel("DE", goods: GoodsClass.Batteries)));
        Assert.Equal(2, CarrierRules.WhyNot(carrier, Parcel("FR", goods: [GoodsClass.Batteries, GoodsClass.Liquids, GoodsClass.Magnets])).Count);
        Assert.Single(CarrierRules.WhyNot(carrier, Parcel("JP")));
        Assert.Single(CarrierRules.WhyNot(carrier, Parcel("DE", grams: 2_001)));
        Assert.Single(CarrierRules.WhyNot(carrier with { Enabled = false }, Parcel("DE")));
        Assert.Empty(CarrierRules.WhyNot(Make("x", 0, 0, 5, accepts: [new CarrierAcceptance(GoodsClass.Liquids, ["*"])]), Parcel("BR", goods: GoodsClass.Liquids)));
    }

    [Fact]
    public void Each_preference_ranks_its_own_way_with_costs_compared_in_the_parcels_currency()
    {
        // Cheap and slow; dear and fast (priced in EUR, worth twice in USD here); in between.
        var catalog = new CarrierCatalog([Make("slow", 300, 0, 20), Make("fast", 600, 0, 2, currency: "EUR"), Make("mid", 700, 0, 8)], []);
        string[] Ids(CarrierPreference preference) =>
            CarrierRules.Plan(catalog, SellerCarrierRules.Default("s") with { Otherwise = preference }, Parcel(), SameOrDouble).Options.Select(o => o.CarrierId).ToArray();

        Assert.Equal(["slow", "mid", "fast"], Ids(CarrierPreference.Cheapest)); // 300, 700, 1200
        Assert.Equal(["fast", "mid", "slow"], Ids(CarrierPreference.Fastest));
        // Balanced: slow 1 + 10 = 11, fast 4 + 1 = 5, mid 2.33 + 4 = 6.33.
        Assert.Equal(["fast", "mid", "slow"], Ids(CarrierPreference.Balanced));
        var fast = CarrierRules.Plan(catalog, SellerCarrierRules.Default("s"), Parcel(), SameOrDouble).Options[0];
        Assert.Equal(new Money(600, "EUR"), fast.Cost);
        Assert.Equal(new Money(1200, "USD"), fast.CostInParcelCurrency);
    }

    [Fact]
    public void The_first_rule_that_applies_picks_and_a_carrier_without_a_rate_or_outside_the_rule_is_hidden_by_it()
    {
        var catalog = new CarrierCatalog([Make("a", 100, 0, 20, tracked: false), Make("b", 500, 0, 5), Make("yen", 50, 0, 5, currency: "JPY")], []);
        var rules = new SellerCarrierRules("s",
        [
            new CarrierRule(["FR"], null, null, null, null, CarrierPreference.Fastest, null, false),
            new CarrierRule(null, 1_000, null, null, null, CarrierPreference.Fastest, ["a", "b"], false),
            new CarrierRule(null, null, null, 50_00, null, CarrierPreference.Cheapest, null, true),
        ], CarrierPreference.Cheapest, "USD", 1, DateTimeOffset.UnixEpoch);

        var light = CarrierRules.Plan(catalog, rules, Parcel(), SameOrDouble);
        Assert.Null(light.RuleIndex);
        Assert.Equal("a", light.Recommended!.CarrierId);
        Assert.Contains(light.Hidden, h => h.CarrierId == "yen" && !h.CannotTake && h.Reasons[0].Contains("no exchange rate"));

        var heavy = CarrierRules.Plan(catalog, rules, Parcel(grams: 1_500), SameOrDouble);
        Assert.Equal(1, heavy.RuleIndex);
        Assert.Equal(["b", "a"], heavy.Options.Select(o => o.CarrierId));

        var dear = CarrierRules.Plan(catalog, rules, Parcel(valueMinor: 80_00), SameOrDouble);
        Assert.Equal(2, dear.RuleIndex);
        Assert.Equal("b", dear.Recommended!.CarrierId); // a is not tracked
        Assert.Equal(0, CarrierRules.Plan(catalog, rules, Parcel("FR", grams: 1_500), SameOrDouble).RuleIndex);

        // A value rule does not apply to a parcel whose value cannot be converted to the rules' currency.
        var inYen = Parcel(valueMinor: 80_00) with { Value = new Money(8_000, "JPY") };
        Assert.Null(CarrierRules.Applying(rules, inYen, SameOrDouble));
    }

    [Fact]
    public void A_destination_that_prohibits_goods_gets_no_carrier_for_them()
    {
        var catalog = new CarrierCatalog([Make("x", 0, 0, 5, accepts: [new CarrierAcceptance(GoodsClass.Batteries, ["*"])])],
            [new DestinationRestriction("AU", [GoodsClass.Batteries, GoodsClass.Perishables], DateTimeOffset.UnixEpoch)]);
        var plan = CarrierRules.Plan(catalog, SellerCarrierRules.Default("s"), Parcel("AU", goods: GoodsClass.Batteries), SameOrDouble);
        Assert.Equal([GoodsClass.Batteries], plan.Prohibited);
        Assert.Empty(plan.Options);
        Assert.True(Assert.Single(plan.Hidden).CannotTake);
        Assert.Single(CarrierRules.Plan(catalog, SellerCarrierRules.Default("s"), Parcel("AU"), SameOrDouble).Options);
    }

    [Fact]
    public void Carrier_terms_and_rules_are_checked_field_by_field()
    {
        var fields = CarrierRules.CheckCarrier(0, [new CarrierLane(["DE", "de"], 3, 2, -1, 0), new CarrierLane(["DE"], 1, 2, 0, -5)],
            [new CarrierAcceptance(GoodsClass.Liquids, ["*"]), new CarrierAcceptance(GoodsClass.Liquids, ["XX1"])]).Select(p => p.Field).ToArray();
        Assert.Equal(["maxWeightGrams", "lanes[0].countries[1]", "lanes[0].transitDaysMax", "lanes[0].baseFeeMinor", "lanes[1].countries[0]",
            "lanes[1].perKgFeeMinor", "accepts[1].goods", "accepts[1].countries[0]"], fields);
        Assert.Empty(CarrierRules.CheckRules([new CarrierRule(["DE"], 0, 10, 0, 10, CarrierPreference.Balanced, ["a"], true)], "USD"));
        Assert.Equal(["currency"], CarrierRules.CheckRules([new CarrierRule(null, null, null, null, 10, CarrierPreference.Balanced, null, false)], null).Select(p => p.Field));
    }
}
