using Orleans.Trade.Api.Logistics;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>
/// How a batch shipment reads the order's answer (R-LOG-4): the order answers a first shipment, a retry and a correction alike,
/// so the shipment it had before tells them apart; races with another request are read from what the order holds after.
/// </summary>
public sealed class DispatchOutcomeTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    private static OrderView Order(OrderStatus status, Shipment? shipment)
    {
        var money = new Money(1000, "EUR");
        return new OrderView("o-1", "b-1", "s-1", status, [], new OrderTotals(money, money, 1m, At),
            new ShippingAddress("Anna", "Line 1", null, "Berlin", null, "10115", "DE", "+49 30 1234567"), shipment,
            new OrderDeadlines(null, At.AddDays(2), null), true, false, null, OrderSource.Checkout, null, "c-1", At, At, 3);
    }

    private static TransitionResult Applied(Shipment? shipment) => new(TransitionStatus.Applied, Order(OrderStatus.Shipped, shipment), null);

    [Fact]
    public void An_order_with_no_shipment_before_is_shipped()
    {
        Assert.Equal(SellerShipmentStatus.Shipped, DispatchApi.Outcome(null, Applied(new Shipment("DHL", "JD1", At)), "DHL", "JD1"));
    }

    [Fact]
    public void The_same_carrier_and_number_again_is_already_shipped_and_another_is_a_correction()
    {
        var before = new Shipment("DHL", "JD1", At);
        Assert.Equal(SellerShipmentStatus.AlreadyShipped, DispatchApi.Outcome(before, Applied(before), "DHL", "JD1"));
        Assert.Equal(SellerShipmentStatus.Corrected, DispatchApi.Outcome(before, Applied(before with { TrackingNumber = "JD2", CorrectedAt = At }), "DHL", "JD2"));
        Assert.Equal(SellerShipmentStatus.Corrected, DispatchApi.Outcome(before, Applied(before with { Carrier = "UPS", CorrectedAt = At }), "UPS", "JD1"));
    }

    [Fact]
    public void An_order_shipped_by_another_request_in_between_and_corrected_by_this_one_is_a_correction()
    {
        var after = new Shipment("DHL", "JD2", At, CorrectedAt: At.AddSeconds(1));
        Assert.Equal(SellerShipmentStatus.Corrected, DispatchApi.Outcome(null, Applied(after), "DHL", "JD2"));
    }

    [Fact]
    public void A_refusal_is_a_conflict_an_invalid_member_or_a_missing_order_and_a_forbidden_one_tells_nothing_more()
    {
        var order = Order(OrderStatus.Cancelled, null);
        Assert.Equal(SellerShipmentStatus.Conflict, DispatchApi.Outcome(null, new TransitionResult(TransitionStatus.InvalidTransition, order, "cancelled"), "DHL", "JD1"));
        Assert.Equal(SellerShipmentStatus.Invalid, DispatchApi.Outcome(null, new TransitionResult(TransitionStatus.Invalid, null, "needs a carrier"), "DHL", "JD1"));
        Assert.Equal(SellerShipmentStatus.NotFound, DispatchApi.Outcome(null, new TransitionResult(TransitionStatus.NotFound, null, "missing"), "DHL", "JD1"));
        Assert.Equal(SellerShipmentStatus.NotFound, DispatchApi.Outcome(null, new TransitionResult(TransitionStatus.Forbidden, null, "seller may not"), "DHL", "JD1"));
    }
}
