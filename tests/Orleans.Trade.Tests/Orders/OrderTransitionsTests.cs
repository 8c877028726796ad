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
}
