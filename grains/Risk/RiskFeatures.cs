namespace Orleans.Trade.Risk;

/// <summary>One feature of the model: its fixed name and what it measures, in words.</summary>
public sealed record RiskFeature(int Index, string Name, string Description);

/// <summary>
/// The model's features, computed by one function at scoring time and when training data is built (replaying recorded
/// attempts through fresh histories), so training and serving cannot drift apart. Every feature reads the histories as
/// they were before the current attempt and the current attempt's own facts, never its outcome.
/// </summary>
/// <remarks>
/// Windows follow <see cref="EntityHistory.Facts"/>: an attempt exactly 1 h (24 h) old is outside the 1 h (24 h) window.
/// Amounts are in US dollars (cents / 100) as floats. Flags are 1 or 0. "Not known" means not among the
/// <see cref="EntityHistory.MaxKnownKeys"/> most recent devices, addresses or cards of the buyer (a first payment has none).
/// </remarks>
public static class RiskFeatures
{
    /// <summary><c>card_minutes_since_last</c> stops growing at 30 days.</summary>
    public const float MaxMinutesSinceLast = 60 * 24 * 30;

    public static readonly IReadOnlyList<RiskFeature> All =
    [
        new(0, "buyer_attempts_1h", "payments by this buyer in the last hour"),
        new(1, "buyer_attempts_24h", "payments by this buyer in the last 24 h"),
        new(2, "buyer_amount_usd_24h", "USD the buyer tried to pay in the last 24 h"),
        new(3, "buyer_declines_24h", "declined payments of this buyer in the last 24 h"),
        new(4, "buyer_prior_attempts", "payments the buyer made before this one"),
        new(5, "account_age_days", "age of the buyer's account in days"),
        new(6, "amount_usd", "order value in USD"),
        new(7, "amount_vs_buyer_mean", "order value against the buyer's usual approved amount (-1: no approved payment yet)"),
        new(8, "card_attempts_1h", "payments with this card in the last hour"),
        new(9, "card_attempts_24h", "payments with this card in the last 24 h"),
        new(10, "card_declines_24h", "declined payments with this card in the last 24 h"),
        new(11, "card_amount_usd_24h", "USD charged to this card in the last 24 h"),
        new(12, "card_new_for_buyer", "card not used by this buyer before"),
        new(13, "device_attempts_1h", "payments from this device in the last hour"),
        new(14, "device_distinct_cards_24h", "distinct cards used on this device in the last 24 h"),
        new(15, "device_new_for_buyer", "device not used by this buyer before"),
        new(16, "ip_attempts_1h", "payments from this IP address in the last hour"),
        new(17, "ip_declines_24h", "declined payments from this IP address in the last 24 h"),
        new(18, "ip_distinct_cards_24h", "distinct cards used from this IP address in the last 24 h"),
        new(19, "address_first_use", "shipping address never used on the platform before"),
        new(20, "address_new_for_buyer", "shipping address not used by this buyer before"),
        new(21, "bin_ip_country_mismatch", "card's country differs from the IP address's country (0 when either is unknown)"),
        new(22, "bin_ship_country_mismatch", "card's country differs from the ship-to country (0 when either is unknown)"),
        new(23, "ip_ship_country_mismatch", "IP address's country differs from the ship-to country (0 when either is unknown)"),
        new(24, "hour_of_day_utc", "hour of day (UTC) of the payment"),
        new(25, "category_risk", "fraud risk of the SKU category"),
        new(26, "card_minutes_since_last", "minutes since this card's previous payment (-1: first use)"),
    ];

    /// <summary>Places in the feature vector (<see cref="All"/> lists them in order).</summary>
    public const int Count = 27;

    public static IReadOnlyList<string> Names { get; } = All.Select(f => f.Name).ToArray();

    /// <summary>
    /// Names this feature set (its names, in order): values stored with it are described by <see cref="Describe"/> as long as
    /// the set is the same, without each payment storing every name and description (about 1.6 KB a payment).
    /// </summary>
    public static string SetId { get; } = "fs1-" + Convert.ToHexStringLower(
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', Names))))[..16];

    /// <summary>Values stored with <paramref name="setId"/>, named and described; a set this build does not know gets positional names.</summary>
    public static IReadOnlyList<RiskFeatureValue> Describe(string? setId, float[]? values)
    {
        if (values is null)
        {
            return [];
        }
        var known = setId == SetId && values.Length == Count;
        return values.Select((value, i) => known
            ? new RiskFeatureValue(All[i].Name, All[i].Description, value)
            : new RiskFeatureValue($"feature_{i}", $"feature {i} of feature set {setId ?? "unknown"} (not this build's)", value)).ToArray();
    }

    public static float[] Compute(RiskEvent current, RiskHistories histories, CategoryRisk categoryRisk)
    {
        var features = new float[Count];
        Compute(current, histories.FactsFor(current), categoryRisk, features);
        return features;
    }

    public static void Compute(RiskEvent current, RiskHistories histories, CategoryRisk categoryRisk, Span<float> features) =>
        Compute(current, histories.FactsFor(current), categoryRisk, features);

    /// <summary>
    /// The features from what the five histories tell of the attempt: the one function behind scoring (facts from the profile
    /// grains) and training (facts from replayed histories, <see cref="RiskHistories.FactsFor"/>).
    /// </summary>
    public static void Compute(RiskEvent current, RiskFacts facts, CategoryRisk categoryRisk, Span<float> features)
    {
        if (features.Length != Count)
        {
            throw new ArgumentException($"The feature vector has {Count} places, not {features.Length}.", nameof(features));
        }
        var at = current.OccurredAt;
        var buyer = facts.Buyer;
        features[0] = buyer.LastHour.Attempts;
        features[1] = buyer.LastDay.Attempts;
        features[2] = Dollars(buyer.LastDay.AmountUsdMinor);
        features[3] = buyer.LastDay.Declines;
        features[4] = buyer.Attempts;
        features[5] = (float)Math.Max(0, (at - current.BuyerCreatedAt).TotalDays);
        features[6] = Dollars(current.AmountUsdMinor);
        features[7] = buyer.MeanApprovedAmountUsdMinor is { } mean && mean > 0 ? (float)(current.AmountUsdMinor / mean) : -1f;

        var card = facts.Card;
        features[8] = card.LastHour.Attempts;
        features[9] = card.LastDay.Attempts;
        features[10] = card.LastDay.Declines;
        features[11] = Dollars(card.LastDay.AmountUsdMinor);
        features[12] = Flag(!buyer.KnowsCard);

        features[13] = facts.Device.LastHour.Attempts;
        features[14] = facts.Device.DistinctCardsLastDay;
        features[15] = Flag(!buyer.KnowsDevice);

        features[16] = facts.Ip.LastHour.Attempts;
        features[17] = facts.Ip.LastDay.Declines;
        features[18] = facts.Ip.DistinctCardsLastDay;

        features[19] = Flag(facts.Address.Attempts == 0);
        features[20] = Flag(!buyer.KnowsAddress);

        features[21] = Flag(Mismatch(current.CardBinCountry, current.IpCountry));
        features[22] = Flag(Mismatch(current.CardBinCountry, current.ShipToCountry));
        features[23] = Flag(Mismatch(current.IpCountry, current.ShipToCountry));
        features[24] = at.UtcDateTime.Hour;
        features[25] = categoryRisk.Of(current.SkuCategory);
        features[26] = card.LastSeen is { } last && last <= at
            ? (float)Math.Min(MaxMinutesSinceLast, (at - last).TotalMinutes)
            : -1f;
    }

    private static float Dollars(long usdMinor) => usdMinor / 100f;

    private static float Flag(bool value) => value ? 1f : 0f;

    /// <summary>
    /// Two known countries that differ. An unknown one (no card country for a bank transfer or a wallet; "ZZ" for an IP whose
    /// country no trusted proxy told) is no mismatch: the model learnt mismatches between known countries only, and read as
    /// one, every payment without proxy headers looked like the country-mismatch fraud pattern.
    /// </summary>
    private static bool Mismatch(string? a, string? b) => Known(a) && Known(b) && !string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static bool Known(string? country) => !string.IsNullOrWhiteSpace(country) && !string.Equals(country, UnknownCountry, StringComparison.OrdinalIgnoreCase);

    /// <summary>The ISO 3166 user-assigned code the API gives a client whose country it does not know.</summary>
    public const string UnknownCountry = "ZZ";
}
