using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Orders;

/// <summary>The remedy a stalled-shipment ticket proposes to customer service (R-LOG-6), from what the order knows.</summary>
public sealed class StalledShipmentRemedyTests
{
    private static readonly DateTimeOffset Shipped = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset WindowEnds = Shipped.AddDays(60);

    private static StallProposal Propose(TrackingEventKind? last, int stalledOnDay) =>
        StalledShipments.Propose(new StallFacts("DHL", Shipped, WindowEnds, last, Shipped.AddDays(stalledOnDay)));

    [Fact]
    public void No_scan_at_all_since_shipping_asks_the_seller_for_proof_of_dispatch()
    {
        var proposal = Propose(null, 20);
        Assert.Equal(StallRemedy.ProofOfDispatch, proposal.Remedy);
        Assert.Contains("proof of dispatch", proposal.Text);
        Assert.Contains("fake", proposal.Text);
        // Also late in the window: a parcel never scanned is the seller's to prove, not a lost one to refund.
        Assert.Equal(StallRemedy.ProofOfDispatch, Propose(null, 45).Remedy);
    }

    [Theory]
    [InlineData(TrackingEventKind.Customs, StallRemedy.CustomsFollowUp, "customs")]
    [InlineData(TrackingEventKind.Exception, StallRemedy.ReshipOrRefund, "reship")]
    [InlineData(TrackingEventKind.InTransit, StallRemedy.CarrierTrace, "trace")]
    [InlineData(TrackingEventKind.OutForDelivery, StallRemedy.CarrierTrace, "trace")]
    public void The_last_event_decides_the_remedy_in_the_first_half_of_the_protection_window(TrackingEventKind last, StallRemedy remedy, string words)
    {
        var proposal = Propose(last, 29);
        Assert.Equal(remedy, proposal.Remedy);
        Assert.Contains(words, proposal.Text);
    }

    [Theory]
    [InlineData(TrackingEventKind.Customs)]
    [InlineData(TrackingEventKind.InTransit)]
    [InlineData(TrackingEventKind.Exception)]
    public void A_stall_past_half_the_protection_window_proposes_a_refund_before_it_ends(TrackingEventKind last)
    {
        var proposal = Propose(last, 30);
        Assert.Equal(StallRemedy.Refund, proposal.Remedy);
        Assert.Contains($"{WindowEnds:u}", proposal.Text);
    }

    [Fact]
    public void The_facts_are_the_orders_carrier_last_event_by_time_and_protection_window()
    {
        var options = new OrderOptions();
        var state = new OrderState { Shipment = new Shipment("FedEx", "794600003828", Shipped), Status = OrderStatus.Shipped };
        state.Tracking.Add(new TrackingEvent(TrackingEventKind.InTransit, Shipped.AddDays(1), null, null, "carrier:fedex", Shipped.AddDays(1)));
        state.Tracking.Add(new TrackingEvent(TrackingEventKind.Customs, Shipped.AddDays(3), null, null, "carrier:fedex", Shipped.AddDays(3)));
        var now = Shipped.AddDays(23);

        var facts = StalledShipments.FactsOf(state, options, now);

        Assert.Equal(new StallFacts("FedEx", Shipped, Shipped + options.ShippedAutoCompleteAfter, TrackingEventKind.Customs, now), facts);
        Assert.Null(StalledShipments.FactsOf(new OrderState { Shipment = new Shipment("FedEx", "1", Shipped) }, options, now).LastEvent);
    }
}
