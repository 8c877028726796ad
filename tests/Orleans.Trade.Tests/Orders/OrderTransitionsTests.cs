using Orleans.Trade.Orders;
using static Orleans.Trade.Orders.OrderStatus;

namespace Orleans.Trade.Tests.Orders;

public sealed class OrderTransitionsTests
{
    // Written from the R-ORD-1 brief, action by action, independently of the production table.
    private static readonly Dictionary<OrderAction, (OrderStatus[] From, OrderStatus? To)> Expected = new()
    {
        [OrderAction.ConfirmPayment] = ([AwaitingPayment], Paid),
        [OrderAction.ReleaseToSeller] = ([Paid], AwaitingShipment),
        [OrderAction.HoldForReview] = ([AwaitingPayment, Paid], RiskReview), // AwaitingPayment: authorized, scored for review (R-PAY-5)
        [OrderAction.ApproveReview] = ([RiskReview], AwaitingShipment),
        [OrderAction.Accept] = ([AwaitingShipment], null),
        [OrderAction.Ship] = ([AwaitingShipment], Shipped),
        [OrderAction.RecordDelivery] = ([Shipped], Delivered),
        [OrderAction.Complete] = ([Shipped, Delivered], Completed),
        [OrderAction.Cancel] = ([AwaitingPayment, Paid, RiskReview, AwaitingShipment], Cancelled),
        [OrderAction.Close] = ([Shipped, Delivered, Completed], Closed),
        [OrderAction.MarkLate] = ([AwaitingShipment], null),
    };

    public static TheoryData<OrderStatus, OrderAction> AllPairs()
    {
        var data = new TheoryData<OrderStatus, OrderAction>();
        foreach (var status in Enum.GetValues<OrderStatus>())
        {
            foreach (var action in Enum.GetValues<OrderAction>())
            {
                data.Add(status, action);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Every_status_and_action_pair_follows_the_lifecycle_table(OrderStatus current, OrderAction action)
    {
        var (from, to) = Expected[action];
        var allowed = from.Contains(current);

        Assert.Equal(allowed, OrderTransitions.TryApply(current, action, out var next));
        // A refused action leaves the status alone; a flag action (to == null) does too.
        Assert.Equal(allowed ? to ?? current : current, next);
        Assert.Equal(allowed, OrderTransitions.Allowed(current).Contains(action));
    }

    [Fact]
    public void Expected_table_covers_every_action()
    {
        Assert.Equal(Enum.GetValues<OrderAction>().Order(), Expected.Keys.Order());
    }

    [Theory]
    [InlineData(Cancelled)]
    [InlineData(Closed)]
    public void Cancelled_and_closed_orders_are_terminal(OrderStatus status)
    {
        Assert.True(OrderTransitions.IsTerminal(status));
        Assert.Empty(OrderTransitions.Allowed(status));
    }

    [Fact]
    public void Only_cancelled_and_closed_are_terminal()
    {
        Assert.Equal([Cancelled, Closed], Enum.GetValues<OrderStatus>().Where(OrderTransitions.IsTerminal));
    }

    [Fact]
    public void Completed_order_can_only_be_closed()
    {
        Assert.Equal([OrderAction.Close], OrderTransitions.Allowed(Completed));
    }

    [Fact]
    public void Cancel_is_refused_once_shipped()
    {
        Assert.False(OrderTransitions.TryApply(Shipped, OrderAction.Cancel, out var next));
        Assert.Equal(Shipped, next);
    }

    [Fact]
    public void Accept_and_mark_late_keep_the_order_awaiting_shipment()
    {
        Assert.True(OrderTransitions.TryApply(AwaitingShipment, OrderAction.Accept, out var afterAccept));
        Assert.True(OrderTransitions.TryApply(AwaitingShipment, OrderAction.MarkLate, out var afterLate));
        Assert.Equal(AwaitingShipment, afterAccept);
        Assert.Equal(AwaitingShipment, afterLate);
    }

    [Fact]
    public void Happy_path_runs_from_payment_to_completion()
    {
        var status = AwaitingPayment;
        foreach (var action in new[] { OrderAction.ConfirmPayment, OrderAction.HoldForReview, OrderAction.ApproveReview, OrderAction.Accept, OrderAction.Ship, OrderAction.RecordDelivery, OrderAction.Complete })
        {
            Assert.True(OrderTransitions.TryApply(status, action, out status), $"{action} refused");
        }
        Assert.Equal(Completed, status);
    }

    [Fact]
    public void Allowed_actions_cannot_be_changed_by_the_caller()
    {
        var allowed = OrderTransitions.Allowed(AwaitingPayment);

        Assert.False(allowed is ICollection<OrderAction> { IsReadOnly: false });
    }

    [Theory]
    [InlineData("royal-mail", "Royal Mail", true)]
    [InlineData("dhl", "DHL", true)]
    [InlineData("china-post", "China Post EMS", false)]
    [InlineData("fedex", "DHL", false)]
    [InlineData("--", "", false)]
    [InlineData("dhl", null, false)]
    public void A_carrier_key_records_only_the_deliveries_of_its_own_shipments(string subject, string? shippedWith, bool same)
    {
        var carrier = new OrderActor("carrier", subject);
        Assert.True(OrderPermissions.MayApply(carrier, OrderAction.RecordDelivery, "b1", "s1", Shipped));
        Assert.False(OrderPermissions.MayApply(new OrderActor("seller", "s1"), OrderAction.RecordDelivery, "b1", "s1", Shipped));
        Assert.False(OrderPermissions.MayApply(new OrderActor("buyer", "b1"), OrderAction.RecordDelivery, "b1", "s1", Shipped));
        Assert.Equal(same, OrderPermissions.SameCarrier(subject, shippedWith));
    }

    [Fact]
    public void An_imported_order_belongs_to_the_other_platforms_buyer_also_when_stored_with_a_bare_id_before_ids_were_qualified()
    {
        var address = new ShippingAddress("J", "1 Main St", null, "Springfield", null, "62701", "US", "+1 217 555 0100");
        OrderPlacement Placement(OrderSource source, string buyerId) => new("o1", "o1", buyerId, "s1", "USD", address, [new CartLine("sku", 1)],
            source, source == OrderSource.Import ? new ExternalOrderRef("amazon", "A-1", true) : null, "erp:s1", null);
        var legacy = Placement(OrderSource.Import, "amz-buyer-1");   // stored before the import API qualified buyer ids
        var current = Placement(OrderSource.Import, "amazon:amz-buyer-1");
        var checkout = Placement(OrderSource.Checkout, "amz-buyer-1");

        Assert.Equal("amazon:amz-buyer-1", legacy.Owner);
        Assert.Equal("amazon:amz-buyer-1", current.Owner);
        Assert.Equal("amz-buyer-1", checkout.Owner);
        // This platform's buyer with the bare id can neither cancel, pay nor read the imported order; the checkout one is theirs.
        var namesake = new OrderActor("buyer", "amz-buyer-1");
        Assert.False(OrderPermissions.MayApply(namesake, OrderAction.Cancel, legacy.Owner, "s1", OrderStatus.AwaitingShipment));
        Assert.False(OrderPermissions.MayPay(namesake, legacy.Owner));
        Assert.False(OrderPermissions.MayRead(namesake, legacy.Owner, "s1"));
        Assert.True(OrderPermissions.MayApply(namesake, OrderAction.Cancel, checkout.Owner, "s1", OrderStatus.AwaitingShipment));
    }
}
