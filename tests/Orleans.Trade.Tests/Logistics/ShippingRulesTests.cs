using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Logistics;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>Shipping templates (R-LOG-1): zones by destination, weight tiers, a free-shipping threshold and promotions, and what an order pays.</summary>
public sealed class ShippingRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static readonly ShippingTemplate Template = new("s1", "standard", "Standard", "USD",
    [
        new ShippingZone(["DE", "FR"], [new WeightTier(500, 3_00), new WeightTier(2_000, 7_50)], FreeFromMinor: 100_00),
        new ShippingZone(["US"], [new WeightTier(1_000, 9_00)], FreeFrom: Now.AddDays(-1), FreeUntil: Now.AddDays(1)),
        new ShippingZone([ShippingRules.Elsewhere], [new WeightTier(1_000, 15_00)]),
    ], 1, Now);

    [Fact]
    public void A_parcel_pays_the_first_tier_of_its_destinations_zone_that_takes_its_weight()
    {
        Assert.Equal(new Money(3_00, "USD"), ShippingRules.Quote(Template, "DE", 500, 10_00, Now).Fee);
        Assert.Equal(new Money(7_50, "USD"), ShippingRules.Quote(Template, "FR", 501, 10_00, Now).Fee);
        Assert.Equal(new Money(15_00, "USD"), ShippingRules.Quote(Template, "JP", 900, 10_00, Now).Fee); // the "*" zone
    }

    [Fact]
    public void Shipping_is_free_from_the_zones_threshold_and_within_its_promotion_only()
    {
        var threshold = ShippingRules.Quote(Template, "DE", 400, 100_00, Now);
        Assert.True(threshold.Free);
        Assert.Equal(new Money(0, "USD"), threshold.Fee);
        Assert.False(ShippingRules.Quote(Template, "DE", 400, 99_99, Now).Free);
        Assert.True(ShippingRules.Quote(Template, "US", 400, 1_00, Now).Free);
        Assert.Equal(new Money(9_00, "USD"), ShippingRules.Quote(Template, "US", 400, 1_00, Now.AddDays(1)).Fee); // the promotion ended
    }

    [Fact]
    public void A_destination_no_zone_takes_and_a_parcel_heavier_than_the_last_tier_do_not_ship()
    {
        var withoutElsewhere = Template with { Zones = Template.Zones.Take(2).ToArray() };
        Assert.Contains("does not ship to JP", ShippingRules.Quote(withoutElsewhere, "JP", 100, 1_00, Now).Refusal);
        var heavy = ShippingRules.Quote(Template, "DE", 2_001, 1_00, Now);
        Assert.Null(heavy.Fee);
        Assert.Contains("2001 g", heavy.Refusal);
    }

    [Fact]
    public void A_template_names_each_country_once_with_ascending_tiers_and_whole_promotions()
    {
        Assert.Empty(ShippingRules.Check(Template.Zones));
        var fields = ShippingRules.Check(
        [
            new ShippingZone(["DE", "de"], [new WeightTier(500, 1), new WeightTier(500, 2)]),
            new ShippingZone(["DE"], [new WeightTier(100, -1)], FreeFromMinor: 0, FreeFrom: Now),
        ]).Select(p => p.Field).ToArray();
        Assert.Equal(["zones[0].countries[1]", "zones[0].tiers[1].upToGrams", "zones[1].countries[0]", "zones[1].tiers[0].feeMinor",
            "zones[1].freeFromMinor", "zones[1].freeUntil"], fields);
        Assert.Equal("zones", Assert.Single(ShippingRules.Check([])).Field);
    }

    private static StockReservationResult Reserved(string sku, long priceMinor, int grams, string? template) =>
        new(ReservationStatus.Reserved, [new StockAllocationPart("wh-de", 1, null)], 10,
            new SkuCatalog("s1", "Item", "home", new Money(priceMinor, "USD"), grams, "691200", "CN", null, ShippingTemplateId: template));

    private static OrderState Priced(string country, out string? refusal, params (string Sku, long Quantity, StockReservationResult Reserved)[] lines)
    {
        var state = new OrderState
        {
            CreatedAt = Now,
            Placement = new OrderPlacement("o1", "c1", "b1", "s1", "USD",
                new ShippingAddress("A Buyer", "1 Main St", null, "Town", null, country == "DE" ? "10115" : "12345", country, "+100000000"),
                lines.Select(l => new CartLine(l.Sku, l.Quantity)).ToArray(), OrderSource.Checkout, null, "buyer:b1", null),
        };
        refusal = OrderPlacing.Price(state, lines.Select(l => l.Reserved).ToArray(),
            new ConfiguredFxRates(new Dictionary<string, decimal> { ["USD"] = 1m, ["EUR"] = 1m }, DateTimeOffset.UnixEpoch), new OrderOptions(),
            new Dictionary<string, ShippingTemplate> { ["standard"] = Template });
        return state;
    }

    [Fact]
    public void An_orders_lines_of_one_template_ship_as_one_parcel_whose_fee_is_charged_with_vat_on_it_and_lines_without_one_ship_free()
    {
        // 2 × 300 g + 1 × 100 g = 700 g to Germany: the 7.50 tier, once; the untemplated line adds nothing.
        var state = Priced("DE", out var refusal,
            ("sku-a", 2, Reserved("sku-a", 10_00, 300, "standard")), ("sku-b", 1, Reserved("sku-b", 5_00, 100, "standard")),
            ("sku-c", 1, Reserved("sku-c", 1_00, 5_000, null)));
        Assert.Null(refusal);
        var totals = state.Totals!;
        Assert.Equal(new Money(26_00, "USD"), totals.Seller);
        Assert.Equal(new Money(7_50, "USD"), totals.Shipping);
        Assert.Equal(new Money(6_37, "USD"), totals.Tax); // 19% of 33.50: IOSS VAT is on the goods and their shipping
        Assert.Equal(new Money(39_87, "USD"), totals.Charged);
        Assert.Equal(new Money(39_87, "USD"), totals.Buyer);

        Assert.Null(Priced("US", out _, ("sku-c", 1, Reserved("sku-c", 1_00, 5_000, null))).Totals!.Shipping);
    }

    [Fact]
    public void An_order_whose_goods_do_not_ship_to_its_destination_is_refused_with_the_reason()
    {
        Priced("DE", out var refusal, ("sku-a", 7, Reserved("sku-a", 1_00, 300, "standard")));
        Assert.Contains("2100 g", refusal);
        Assert.Contains("sku-a", refusal);
        Priced("DE", out refusal, ("sku-x", 1, Reserved("sku-x", 1_00, 300, "express")));
        Assert.Contains("'express'", refusal);
    }
}
