using Orleans.Trade.Risk;
using static Orleans.Trade.Tests.Risk.RiskTestData;

namespace Orleans.Trade.Tests.Risk;

public sealed class RiskFeaturesTests
{
    private static Dictionary<string, float> Named(float[] features) =>
        RiskFeatures.All.ToDictionary(f => f.Name, f => features[f.Index]);

    [Fact]
    public void The_feature_list_has_fixed_unique_names_in_index_order()
    {
        Assert.Equal(RiskFeatures.Count, RiskFeatures.All.Count);
        Assert.Equal(Enumerable.Range(0, RiskFeatures.Count), RiskFeatures.All.Select(f => f.Index));
        Assert.Equal(RiskFeatures.Count, RiskFeatures.Names.Distinct().Count());
    }

    [Fact]
    public void Values_stored_with_this_feature_set_are_named_and_described_and_values_of_another_set_keep_their_places()
    {
        var values = Enumerable.Range(0, RiskFeatures.Count).Select(i => i * 0.5f).ToArray();

        var described = RiskFeatures.Describe(RiskFeatures.SetId, values);
        var foreign = RiskFeatures.Describe("fs1-0000000000000000", values[..3]);

        Assert.Equal(RiskFeatures.All.Select(f => (f.Name, f.Description)), described.Select(f => (f.Name, f.Description)));
        Assert.Equal(values, described.Select(f => f.Value));
        Assert.Equal(["feature_0", "feature_1", "feature_2"], foreign.Select(f => f.Name));
        Assert.Equal(values[..3], foreign.Select(f => f.Value));
        Assert.Contains("fs1-0000000000000000", foreign[0].Description);
        // The same set read by a build with one more feature (or one less) is not this set.
        Assert.Equal("feature_0", RiskFeatures.Describe(RiskFeatures.SetId, values[..^1])[0].Name);
        Assert.Empty(RiskFeatures.Describe(RiskFeatures.SetId, null));
        Assert.StartsWith("fs1-", RiskFeatures.SetId);
    }

    [Fact]
    public void An_account_takeover_shaped_payment_against_a_hand_worked_history()
    {
        var created = Noon.AddDays(-10);
        var replay = new RiskReplay(CategoryRisk.Default);
        replay.Next(Attempt(Noon.AddHours(-25), 2_000, buyerCreatedAt: created));
        replay.Next(Attempt(Noon.AddHours(-3), 4_000, buyerCreatedAt: created));
        replay.Next(Attempt(Noon.AddMinutes(-30), 600, RiskOutcome.Declined, buyerCreatedAt: created));

        var current = Attempt(Noon, 30_000, card: "c-2", device: "d-2", ip: "10.0.0.9", address: "a-new", binCountry: "US",
            ipCountry: "NG", shipTo: "FR", category: "phones", buyerCreatedAt: created);
        var f = Named(replay.Next(current));

        Assert.Equal(1, f["buyer_attempts_1h"]);
        Assert.Equal(2, f["buyer_attempts_24h"]); // the one 25 h old is outside
        Assert.Equal(46f, f["buyer_amount_usd_24h"]); // 40.00 + 6.00, declined attempts included
        Assert.Equal(1, f["buyer_declines_24h"]);
        Assert.Equal(3, f["buyer_prior_attempts"]);
        Assert.Equal(10, f["account_age_days"]);
        Assert.Equal(300, f["amount_usd"]);
        Assert.Equal(10, f["amount_vs_buyer_mean"]); // 300.00 / mean of approved (20.00, 40.00)
        Assert.Equal(0, f["card_attempts_1h"]);
        Assert.Equal(0, f["card_attempts_24h"]);
        Assert.Equal(0, f["card_declines_24h"]);
        Assert.Equal(0, f["card_amount_usd_24h"]);
        Assert.Equal(1, f["card_new_for_buyer"]);
        Assert.Equal(0, f["device_attempts_1h"]);
        Assert.Equal(1, f["device_distinct_cards_24h"]); // the current card only
        Assert.Equal(1, f["device_new_for_buyer"]);
        Assert.Equal(0, f["ip_attempts_1h"]);
        Assert.Equal(0, f["ip_declines_24h"]);
        Assert.Equal(1, f["ip_distinct_cards_24h"]);
        Assert.Equal(1, f["address_first_use"]);
        Assert.Equal(1, f["address_new_for_buyer"]);
        Assert.Equal(1, f["bin_ip_country_mismatch"]);
        Assert.Equal(1, f["bin_ship_country_mismatch"]);
        Assert.Equal(1, f["ip_ship_country_mismatch"]);
        Assert.Equal(12, f["hour_of_day_utc"]);
        Assert.Equal(0.9f, f["category_risk"]);
        Assert.Equal(-1, f["card_minutes_since_last"]);
    }

    [Fact]
    public void A_card_testing_burst_against_a_hand_worked_history()
    {
        var replay = new RiskReplay(CategoryRisk.Default);
        replay.Next(Attempt(Noon.AddMinutes(-61), 300, RiskOutcome.Declined, buyer: "b-x", card: "c-0", device: "d-9", ip: "1.2.3.4"));
        replay.Next(Attempt(Noon.AddMinutes(-50), 300, RiskOutcome.Declined, buyer: "b-x", card: "c-a", device: "d-9", ip: "1.2.3.4"));
        replay.Next(Attempt(Noon.AddMinutes(-20), 300, RiskOutcome.Declined, buyer: "b-x", card: "c-b", device: "d-9", ip: "1.2.3.4"));
        replay.Next(Attempt(Noon.AddMinutes(-10), 300, buyer: "b-x", card: "c-c", device: "d-9", ip: "1.2.3.4"));

        var f = Named(replay.Next(Attempt(Noon, 300, buyer: "b-x", card: "c-c", device: "d-9", ip: "1.2.3.4", category: "gift_cards")));

        Assert.Equal(3, f["buyer_attempts_1h"]); // 61 minutes ago is outside the hour
        Assert.Equal(4, f["buyer_attempts_24h"]);
        Assert.Equal(3, f["buyer_declines_24h"]);
        Assert.Equal(1, f["amount_vs_buyer_mean"]);
        Assert.Equal(1, f["card_attempts_1h"]);
        Assert.Equal(3f, f["card_amount_usd_24h"]);
        Assert.Equal(0, f["card_new_for_buyer"]);
        Assert.Equal(10, f["card_minutes_since_last"]);
        Assert.Equal(3, f["device_attempts_1h"]);
        Assert.Equal(4, f["device_distinct_cards_24h"]); // c-0, c-a, c-b, c-c
        Assert.Equal(0, f["device_new_for_buyer"]);
        Assert.Equal(3, f["ip_attempts_1h"]);
        Assert.Equal(3, f["ip_declines_24h"]);
        Assert.Equal(4, f["ip_distinct_cards_24h"]);
        Assert.Equal(0, f["address_first_use"]);
        Assert.Equal(0, f["address_new_for_buyer"]);
        Assert.Equal(0, f["bin_ip_country_mismatch"]);
        Assert.Equal(1.0f, f["category_risk"]);
    }

    /// <summary>
    /// An unknown country is no mismatch: a bank transfer has no card country, and without trusted proxy headers (the default)
    /// every client's IP country is "ZZ". Read as mismatches, they made every such payment look like the country-mismatch fraud
    /// pattern the model learnt from known countries only. Two known countries that differ still are one.
    /// </summary>
    [Theory]
    [InlineData("DE", "ZZ", "DE", 0, 0, 0)]
    [InlineData("", "ZZ", "DE", 0, 0, 0)]
    [InlineData("", "DE", "DE", 0, 0, 0)]
    [InlineData("US", "ZZ", "DE", 0, 1, 0)]
    [InlineData("US", "FR", "DE", 1, 1, 1)]
    [InlineData("DE", "de", "DE", 0, 0, 0)]
    public void Only_two_known_countries_that_differ_are_a_mismatch(string bin, string ip, string shipTo, float binIp, float binShip, float ipShip)
    {
        var f = Named(new RiskReplay(CategoryRisk.Default).Next(Attempt(Noon, binCountry: bin, ipCountry: ip, shipTo: shipTo)));

        Assert.Equal((binIp, binShip, ipShip), (f["bin_ip_country_mismatch"], f["bin_ship_country_mismatch"], f["ip_ship_country_mismatch"]));
    }

    [Fact]
    public void A_first_payment_sees_empty_histories_not_itself()
    {
        var replay = new RiskReplay(CategoryRisk.Default);
        var f = Named(replay.Next(Attempt(Noon, category: "unheard-of")));

        Assert.Equal(0, f["buyer_attempts_1h"]);
        Assert.Equal(0, f["buyer_prior_attempts"]);
        Assert.Equal(-1, f["amount_vs_buyer_mean"]);
        Assert.Equal(1, f["address_first_use"]);
        Assert.Equal(1, f["device_new_for_buyer"]);
        Assert.Equal(CategoryRisk.UnknownCategoryRisk, f["category_risk"]);
    }

    [Fact]
    public void Computing_features_does_not_change_the_histories()
    {
        var histories = RiskHistories.Empty();
        histories.Record(Attempt(Noon.AddMinutes(-5)));
        var before = histories.Buyer.Recent.ToList();

        var first = RiskFeatures.Compute(Attempt(Noon), histories, CategoryRisk.Default);
        var second = RiskFeatures.Compute(Attempt(Noon), histories, CategoryRisk.Default);

        Assert.Equal(first, second);
        Assert.Equal(before, histories.Buyer.Recent);
    }

    [Fact]
    public void Replay_and_grain_style_histories_give_the_same_features()
    {
        // A grain keeps one history per entity and records after scoring; the replay does the same with dictionaries.
        var attempts = RiskGenerator.Generate(2_000, 5).Select(r => r.Event).ToList();
        var replayed = RiskReplay.Features(attempts.Select(a => new LabelledRiskEvent(a, false)).ToList(), CategoryRisk.Default);
        var grains = new Dictionary<string, EntityHistory>();
        EntityHistory Of(string kind, string key) => grains.TryGetValue(kind + key, out var h) ? h : grains[kind + key] = new EntityHistory();
        for (var i = 0; i < attempts.Count; i++)
        {
            var a = attempts[i];
            var histories = new RiskHistories(Of("buyer", a.BuyerId), Of("card", a.CardFingerprint), Of("device", a.DeviceFingerprint),
                Of("ip", a.IpAddress), Of("address", a.ShippingAddressKey));
            Assert.Equal(replayed[i].Features, RiskFeatures.Compute(a, histories, CategoryRisk.Default));
            histories.Record(a);
        }
    }
}
