namespace Orleans.Trade.Orders;

/// <summary>What customer service is proposed to do about a stalled shipment (R-LOG-6).</summary>
public enum StallRemedy
{
    /// <summary>No carrier scan at all since shipping (or since the tracking number was corrected): the tracking may be fake.</summary>
    ProofOfDispatch,
    /// <summary>Last reported held at customs.</summary>
    CustomsFollowUp,
    /// <summary>Last reported a delivery exception (damaged, address not found, returned).</summary>
    ReshipOrRefund,
    /// <summary>Last reported moving (in transit, out for delivery), then silent.</summary>
    CarrierTrace,
    /// <summary>Stalled past half the buyer's protection window: little time is left to find the parcel.</summary>
    Refund,
}

/// <summary>What the order knows when its shipment is found stalled.</summary>
/// <param name="ProtectionEndsAt">When the shipped order completes by itself (the buyer protection window, R-ROLE-1).</param>
/// <param name="LastEvent">The kind of the latest tracking event by event time; null when the carrier reported none.</param>
public sealed record StallFacts(string Carrier, DateTimeOffset ShippedAt, DateTimeOffset ProtectionEndsAt, TrackingEventKind? LastEvent, DateTimeOffset Now);

/// <summary>A proposed remedy and the words the ticket says it in.</summary>
public sealed record StallProposal(StallRemedy Remedy, string Text);

/// <summary>The remedy a stalled-shipment ticket proposes (R-LOG-6), a pure function of the order's facts.</summary>
public static class StalledShipments
{
    public static StallProposal Propose(StallFacts facts)
    {
        if (facts.LastEvent is null)
        {
            // Not one scan in the whole stall period: the parcel may never have been handed over (fake tracking, R-DIS-4).
            return new(StallRemedy.ProofOfDispatch,
                $"{facts.Carrier} has reported no scan since shipping: ask the seller for proof of dispatch (the carrier's acceptance receipt); "
                + "without it, treat the tracking number as fake and refund the buyer.");
        }
        var halfWindow = facts.ShippedAt + (facts.ProtectionEndsAt - facts.ShippedAt) / 2;
        if (facts.Now >= halfWindow)
        {
            return new(StallRemedy.Refund,
                $"stalled past half the buyer's protection window, which ends {facts.ProtectionEndsAt:u}: propose a refund to the buyer "
                + "(or a reship at the seller's cost, if the buyer prefers) before it ends.");
        }
        return facts.LastEvent switch
        {
            TrackingEventKind.Customs => new(StallRemedy.CustomsFollowUp,
                $"last reported held at customs: contact {facts.Carrier} about the hold, and ask the buyer for what customs needs (duties, ID, invoice)."),
            TrackingEventKind.Exception => new(StallRemedy.ReshipOrRefund,
                $"last reported a delivery exception by {facts.Carrier}: ask the seller to reship, or refund the buyer."),
            _ => new(StallRemedy.CarrierTrace,
                $"last reported moving, then silent: ask {facts.Carrier} to trace the parcel, and tell the buyer it is being traced."),
        };
    }

    public static StallFacts FactsOf(OrderState s, OrderOptions options, DateTimeOffset now)
    {
        var shipment = s.Shipment!;
        var tracking = s.TrackingOrEmpty;
        return new StallFacts(shipment.Carrier, shipment.ShippedAt, OrderPlacing.ShippedCompletesAt(s, options)!.Value,
            tracking.Count > 0 ? tracking[^1].Kind : null, now);
    }
}
