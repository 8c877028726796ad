namespace Orleans.Trade.Risk;

/// <summary>
/// Scores a payment inline (R-PAY-5): reads the five histories, computes the features with the same code training uses,
/// asks the model, then applies the policy — thresholds and hard rules (block lists, hourly velocity caps), which win over
/// the model. Each history counts the attempt from its scoring (pending), so payments sent at once see each other; after the
/// payment's outcome is known, <see cref="RecordAsync"/> adds it to the histories.
/// </summary>
public sealed class RiskAssessor(IGrainFactory grains, RiskScorer scorer, CachedRiskPolicy policies)
{
    /// <summary>The score, the attempt as scored, and its feature vector in the order of <see cref="RiskFeatures.All"/>.</summary>
    public sealed record Assessment(RiskScore Score, RiskEvent Event, float[] Features);

    private static string[] Profiles(RiskEvent e) =>
    [
        RiskProfiles.Buyer(e.BuyerId), RiskProfiles.Card(e.CardFingerprint), RiskProfiles.Device(e.DeviceFingerprint),
        RiskProfiles.Ip(e.IpAddress), RiskProfiles.Address(e.ShippingAddressKey),
    ];

    public async Task<Assessment> AssessAsync(RiskEvent payment)
    {
        var profiles = Profiles(payment);
        var asked = new Task<EntityFacts>[profiles.Length];
        for (var i = 0; i < profiles.Length; i++)
        {
            asked[i] = grains.GetGrain<IRiskProfileGrain>(profiles[i]).Reserve(payment, RiskFacts.CountDistinctCards[i]);
        }
        var read = await Task.WhenAll(asked);
        var facts = new RiskFacts(read[0], read[1], read[2], read[3], read[4]);
        // Account age counts from when the platform first saw the buyer pay.
        var attempt = payment with { BuyerCreatedAt = facts.Buyer.FirstSeen ?? payment.OccurredAt };
        var features = new float[RiskFeatures.Count];
        RiskFeatures.Compute(attempt, facts, scorer.CategoryRisk, features);
        var model = scorer.Score(features);
        var policy = await policies.GetAsync();
        var rule = RiskRules.Check(policy, attempt, facts);
        var decision = rule is not null ? RiskDecision.Block : policy.Decide(model.Score);
        var reasons = rule is null ? model.Reasons : [new RiskReason("rule", rule, 1, 0), .. model.Reasons];
        return new Assessment(model with { Decision = decision, Reasons = reasons }, attempt, features);
    }

    public Task RecordAsync(RiskEvent attempt) =>
        Task.WhenAll(Profiles(attempt).Select(p => grains.GetGrain<IRiskProfileGrain>(p).Record(attempt)));
}

/// <summary>The policy's hard rules; the first that applies names why the payment is blocked.</summary>
public static class RiskRules
{
    public static string? Check(RiskPolicy policy, RiskEvent attempt, RiskFacts facts)
    {
        if (policy.BlockedBuyers.Contains(attempt.BuyerId)) return "the buyer is on the block list";
        if (policy.BlockedCardFingerprints.Contains(attempt.CardFingerprint)) return "the card is on the block list";
        if (policy.BlockedDevices.Contains(attempt.DeviceFingerprint)) return "the device is on the block list";
        if (policy.BlockedIps.Contains(attempt.IpAddress)) return "the IP address is on the block list";
        if (policy.MaxPaymentsPerCardPerHour is { } cardCap && facts.Card.LastHour.Attempts >= cardCap)
            return $"the card made {cardCap} or more payments in the last hour";
        if (policy.MaxPaymentsPerBuyerPerHour is { } buyerCap && facts.Buyer.LastHour.Attempts >= buyerCap)
            return $"the buyer made {buyerCap} or more payments in the last hour";
        return null;
    }
}
