namespace Orleans.Trade.Risk;

/// <summary>
/// Scores a payment inline (R-PAY-5): reads the five histories, computes the features with the same code training uses,
/// asks the model, then applies the policy — thresholds and hard rules (block lists, hourly velocity caps), which win over
/// the model. After the payment's outcome is known, <see cref="RecordAsync"/> adds it to the histories.
/// </summary>
public sealed class RiskAssessor(IGrainFactory grains, RiskScorer scorer, CachedRiskPolicy policies)
{
    public sealed record Assessment(RiskScore Score, RiskEvent Event, IReadOnlyList<RiskFeatureValue> Features);

    private static string[] Profiles(RiskEvent e) =>
    [
        RiskProfiles.Buyer(e.BuyerId), RiskProfiles.Card(e.CardFingerprint), RiskProfiles.Device(e.DeviceFingerprint),
        RiskProfiles.Ip(e.IpAddress), RiskProfiles.Address(e.ShippingAddressKey),
    ];

    public async Task<Assessment> AssessAsync(RiskEvent payment)
    {
        var read = await Task.WhenAll(Profiles(payment).Select(p => grains.GetGrain<IRiskProfileGrain>(p).History()));
        var histories = new RiskHistories(read[0].Value, read[1].Value, read[2].Value, read[3].Value, read[4].Value);
        // Account age counts from when the platform first saw the buyer pay.
        var attempt = payment with { BuyerCreatedAt = histories.Buyer.FirstSeen ?? payment.OccurredAt };
        var features = RiskFeatures.Compute(attempt, histories, scorer.CategoryRisk);
        var model = scorer.Score(features);
        var policy = await policies.GetAsync();
        var rule = RiskRules.Check(policy, attempt, histories);
        var decision = rule is not null ? RiskDecision.Block : policy.Decide(model.Score);
        var reasons = rule is null ? model.Reasons : [new RiskReason("rule", rule, 1, 0), .. model.Reasons];
        var values = RiskFeatures.All.Select(f => new RiskFeatureValue(f.Name, f.Description, features[f.Index])).ToArray();
        return new Assessment(model with { Decision = decision, Reasons = reasons }, attempt, values);
    }

    public Task RecordAsync(RiskEvent attempt) =>
        Task.WhenAll(Profiles(attempt).Select(p => grains.GetGrain<IRiskProfileGrain>(p).Record(attempt)));
}

/// <summary>The policy's hard rules; the first that applies names why the payment is blocked.</summary>
public static class RiskRules
{
    public static string? Check(RiskPolicy policy, RiskEvent attempt, RiskHistories histories)
    {
        if (policy.BlockedBuyers.Contains(attempt.BuyerId)) return "the buyer is on the block list";
        if (policy.BlockedCardFingerprints.Contains(attempt.CardFingerprint)) return "the card is on the block list";
        if (policy.BlockedDevices.Contains(attempt.DeviceFingerprint)) return "the device is on the block list";
        if (policy.BlockedIps.Contains(attempt.IpAddress)) return "the IP address is on the block list";
        if (policy.MaxPaymentsPerCardPerHour is { } cardCap && histories.Card.Window(attempt.OccurredAt, RiskFeatures.OneHour).Attempts >= cardCap)
            return $"the card made {cardCap} or more payments in the last hour";
        if (policy.MaxPaymentsPerBuyerPerHour is { } buyerCap && histories.Buyer.Window(attempt.OccurredAt, RiskFeatures.OneHour).Attempts >= buyerCap)
            return $"the buyer made {buyerCap} or more payments in the last hour";
        return null;
    }
}
