using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Tests.Orders;

/// <summary>Pricing a placement (R-PAY-2, R-SET-2, R-ORD-3): a missing rate refuses the order rather than skipping a check.</summary>
public sealed class OrderPricingTests
{
    private static readonly IReadOnlyDictionary<string, decimal> UsdEurNzd = new Dictionary<string, decimal> { ["USD"] = 1m, ["EUR"] = 0.9m, ["NZD"] = 1.7m };

    private static OrderState Priced(string currency, long priceMinor, string shipTo, IReadOnlyDictionary<string, decimal> unitsPerUsd,
        OrderOptions? options, out string? refusal, string? buyerCurrency = null, string postalCode = "12345")
    {
        var state = new OrderState
        {
            Placement = new OrderPlacement("o1", "c1", "b1", "s1", buyerCurrency ?? currency,
                new ShippingAddress("A Buyer", "1 Main St", null, "Town", null, postalCode, shipTo, "+100000000"),
                [new CartLine("sku-1", 1)], OrderSource.Checkout, null, "buyer:b1", null),
        };
        var catalog = new SkuCatalog("s1", "Cable", "electronics", new Money(priceMinor, currency), 100, "8544", "CN", null);
        var reserved = new StockReservationResult(ReservationStatus.Reserved, [new StockAllocationPart("wh-cn", 1, null)], 10, catalog);
        refusal = OrderPlacing.Price(state, [reserved], new ConfiguredFxRates(unitsPerUsd, DateTimeOffset.UnixEpoch), options ?? new OrderOptions());
        return state;
    }

    [Fact]
    public void A_currency_without_a_dollar_rate_is_refused_instead_of_skipping_the_risk_review_threshold()
    {
        Priced("NZD", 500_000_00, "US", new Dictionary<string, decimal> { ["NZD"] = 1.7m }, null, out var refusal);
        Assert.Contains("NZD to USD", refusal);
        var state = Priced("NZD", 500_000_00, "US", UsdEurNzd, null, out refusal);
        Assert.Null(refusal);
        Assert.NotNull(state.ReviewReason); // 294,117.65 USD: above the 2,000 USD threshold
    }

    [Fact]
    public void An_eu_consignment_without_a_euro_rate_is_refused_instead_of_going_untaxed()
    {
        var noEuro = new Dictionary<string, decimal> { ["USD"] = 1m, ["NZD"] = 1.7m };
        Priced("NZD", 50_00, "DE", noEuro, null, out var refusal);
        Assert.Contains("NZD to EUR", refusal);
        Assert.Null(Priced("NZD", 50_00, "US", noEuro, null, out refusal).Totals!.Tax); // outside the EU no euro rate is needed
        Assert.Null(refusal);
        Assert.Equal(new Money(9_50, "NZD"), Priced("NZD", 50_00, "DE", UsdEurNzd, null, out _).Totals!.Tax);
    }

    [Fact]
    public void Vat_rates_follow_the_current_law_and_configuration_overrides_a_country()
    {
        Assert.Equal(new Money(24_00, "EUR"), IossVat.For("EE", new Money(100_00, "EUR"), 1m));
        Assert.Equal(new Money(21_00, "EUR"), IossVat.For("RO", new Money(100_00, "EUR"), 1m));
        var options = new OrderOptions { VatRates = new() { ["DE"] = 7m } };
        Assert.Equal(new Money(7_00, "EUR"), Priced("EUR", 100_00, "DE", UsdEurNzd, options, out _).Totals!.Tax);
        Assert.Equal(new Money(21_00, "EUR"), Priced("EUR", 100_00, "NL", UsdEurNzd, options, out _).Totals!.Tax);
    }

    [Fact]
    public void An_order_whose_total_converts_to_less_than_one_minor_unit_of_the_buyers_currency_is_refused_not_placed_unpayable()
    {
        // 5 KRW at 1372 KRW per dollar is 0.36 US cents: rounded to 0 USD, an order no provider takes (amounts start at 1).
        var krw = new Dictionary<string, decimal> { ["USD"] = 1m, ["EUR"] = 0.92m, ["KRW"] = 1372m };
        var state = Priced("KRW", 5, "US", krw, null, out var refusal, buyerCurrency: "USD");
        Assert.Contains("less than", refusal);
        // One more won is still refused; 7 KRW rounds up to 1 cent and is placed.
        Priced("KRW", 6, "US", krw, null, out refusal, buyerCurrency: "USD");
        Assert.NotNull(refusal);
        state = Priced("KRW", 7, "US", krw, null, out refusal, buyerCurrency: "USD");
        Assert.Null(refusal);
        Assert.Equal(new Money(1, "USD"), state.Totals!.Buyer);
    }

    [Fact]
    public void Eu_countries_territories_outside_the_eu_vat_area_pay_no_ioss_vat()
    {
        // The Canary Islands, Ceuta and Melilla, the French overseas departments, Åland, Mount Athos, Büsingen and Heligoland,
        // Livigno and Campione d'Italia are outside the EU VAT area (Directive 2006/112/EC, art. 6): import VAT there is local
        // (IGIC, octroi de mer, ...), never the mainland's IOSS VAT.
        foreach (var (country, postalCode) in new[] { ("ES", "35001"), ("ES", "38001"), ("ES", "51001"), ("ES", "52001"), ("FR", "97400"),
            ("FR", "97110"), ("FI", "22100"), ("GR", "63086"), ("DE", "78266"), ("DE", "27498"), ("IT", "23041"), ("IT", "22061") })
        {
            var state = Priced("USD", 10_00, country, UsdEurNzd, null, out var refusal, postalCode: postalCode);
            Assert.Null(refusal);
            Assert.True(state.Totals!.Tax is null, $"{country} {postalCode} was charged {state.Totals.Tax} of IOSS VAT");
        }
        // The mainland still pays it.
        Assert.Equal(new Money(2_10, "USD"), Priced("USD", 10_00, "ES", UsdEurNzd, null, out _, postalCode: "28013").Totals!.Tax);
        Assert.Equal(new Money(2_00, "USD"), Priced("USD", 10_00, "FR", UsdEurNzd, null, out _, postalCode: "75008").Totals!.Tax);
        Assert.Equal(new Money(2_55, "USD"), Priced("USD", 10_00, "FI", UsdEurNzd, null, out _, postalCode: "00100").Totals!.Tax);
    }

    [Fact]
    public void Configured_rates_overlay_the_built_in_table()
    {
        var rates = ConfiguredFxRates.WithConfigured([KeyValuePair.Create("EUR", (string?)"0.5"), KeyValuePair.Create("USD", (string?)"1")]);

        Assert.Equal(0.5m, rates["EUR"]);
        Assert.Equal(ConfiguredFxRates.Defaults["JPY"], rates["JPY"]);
    }

    [Theory]
    [InlineData("EUR", "0", "is not a rate")]
    [InlineData("EUR", "-1", "is not a rate")]
    [InlineData("EUR", "0,92", "is not a rate")]
    [InlineData("EUR", "", "is not a rate")]
    [InlineData("EUR", "20000000", "is not a rate")]
    [InlineData("EURO", "0.92", "not a supported ISO 4217 currency code")]
    [InlineData("eur", "0.92", "not a supported ISO 4217 currency code")]
    [InlineData("USD", "2", "USD is the base")]
    public void A_configured_rate_that_cannot_be_used_is_refused_by_name(string currency, string rate, string why)
    {
        var refused = Assert.Throws<InvalidOperationException>(() =>
            ConfiguredFxRates.WithConfigured([KeyValuePair.Create("GBP", (string?)"0.8"), KeyValuePair.Create(currency, (string?)rate)]));

        Assert.Contains($"Fx:UsdRates:{currency}", refused.Message);
        Assert.Contains(why, refused.Message);
        Assert.DoesNotContain("GBP", refused.Message);
    }

    [Fact]
    public void A_consignment_to_monaco_pays_french_vat_declared_with_france()
    {
        // Monaco is in the French VAT area (Directive 2006/112/EC, art. 7): before, it was charged no IOSS VAT at all.
        var state = Priced("USD", 10_00, "MC", UsdEurNzd, null, out var refusal, postalCode: "98000");

        Assert.Null(refusal);
        Assert.Equal(new Money(2_00, "USD"), state.Totals!.Tax);
        Assert.Equal("FR", state.Totals.TaxCountry);
        Assert.Equal("FR", IossVat.VatCountry("MC"));
        Assert.Equal("DE", IossVat.VatCountry("DE"));
    }
}
