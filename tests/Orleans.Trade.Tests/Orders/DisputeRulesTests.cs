using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>The pure rules of disputes: the arbitration's due time in working days, and what a disputed order waits for.</summary>
public sealed class DisputeRulesTests
{
    private static readonly DateTimeOffset Friday = new(2026, 12, 4, 15, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1, "2026-12-07T15:00:00Z")] // Friday + 1 working day: Monday
    [InlineData(3, "2026-12-09T15:00:00Z")]
    [InlineData(7, "2026-12-15T15:00:00Z")] // two weekends skipped
    [InlineData(0, "2026-12-04T15:00:00Z")]
    public void An_escalated_dispute_is_due_a_verdict_after_working_days_that_skip_weekends(int days, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected), DisputeRules.ArbitrationDue(Friday, days));

    [Fact]
    public void A_saturday_escalation_counts_from_the_next_monday()
    {
        var saturday = Friday.AddDays(1);
        Assert.Equal(Friday.AddDays(3), DisputeRules.ArbitrationDue(saturday, 1));
    }

    private static OrderState Delivered(DateTimeOffset deliveredAt)
    {
        var options = new OrderOptions();
        return new OrderState
        {
            Phase = OrderPhase.Live,
            Status = OrderStatus.Delivered,
            Placement = new OrderPlacement("o-1", "chk-1", "buyer-1", "seller-1", "USD",
                new ShippingAddress("Anna Schmidt", "Invalidenstr. 1", null, "Berlin", null, "10115", "DE", "+49 30 1234567"),
                [new CartLine("sku-1", 1)], OrderSource.Checkout, null, "buyer-1", null),
            Totals = new OrderTotals(new Money(2_000, "USD"), new Money(2_000, "USD"), 1m, deliveredAt),
            Deadlines = new OrderDeadlines(null, null, deliveredAt + options.AutoCompleteAfter),
        };
    }

    private static DisputeView Dispute(DisputeStatus status, DateTimeOffset openedAt) => new("d-1", status, DisputeReason.Damaged, "cracked",
        new Money(500, "USD"), "buyer:buyer-1", openedAt, openedAt.AddHours(72), null, null, null, [], null);

    [Fact]
    public void A_disputed_order_waits_for_the_sellers_answer_instead_of_its_protection_window_and_for_nothing_under_arbitration()
    {
        var options = new OrderOptions();
        var deliveredAt = Friday;
        var order = Delivered(deliveredAt);
        Assert.Equal(deliveredAt + options.AutoCompleteAfter, OrderPlacing.NextWake(order, deliveredAt, options));

        order.Dispute = Dispute(DisputeStatus.AwaitingSeller, deliveredAt.AddDays(14));
        Assert.Equal(deliveredAt.AddDays(17), OrderPlacing.NextWake(order, deliveredAt.AddDays(14), options));

        order.Dispute = order.Dispute with { Status = DisputeStatus.UnderArbitration };
        Assert.Null(OrderPlacing.NextWake(order, deliveredAt.AddDays(30), options));

        // Withdrawn, the protection window counts again (one passed meanwhile is due at once).
        order.Dispute = order.Dispute with { Status = DisputeStatus.Withdrawn };
        Assert.Equal(deliveredAt + options.AutoCompleteAfter, OrderPlacing.NextWake(order, deliveredAt.AddDays(30), options));

        // Decided but not completed yet (a crash between the two writes): completing is due within a check period.
        order.Dispute = order.Dispute with { Status = DisputeStatus.Resolved };
        var now = deliveredAt.AddDays(20);
        Assert.Equal(now + options.DeadlineCheckPeriod, OrderPlacing.NextWake(order, now, options));
    }

    [Fact]
    public void An_order_state_stores_its_dispute_open_attempts_and_tracking_and_one_without_them_carries_no_lists()
    {
        var at = Friday;
        var fresh = Delivered(at);
        Assert.False(fresh.HasVoidOpenAttempts);
        Assert.Empty(fresh.TrackingOrEmpty);
        var plain = StorageTestDatabase.Serializer.Deserialize<OrderState>(StorageTestDatabase.Serializer.SerializeToArray(fresh))!;
        Assert.False(plain.HasVoidOpenAttempts);
        Assert.Empty(plain.TrackingOrEmpty);
        Assert.Null(plain.Dispute);

        fresh.Dispute = Dispute(DisputeStatus.UnderArbitration, at);
        fresh.VoidOpenAttempts.Add("pay-2");
        fresh.Tracking.Add(new TrackingEvent(TrackingEventKind.Customs, at, "Leipzig", null, "carrier:dhl", at));
        fresh.TrackingTickets.Add(ServiceTicketKinds.CustomsHold);
        var stored = StorageTestDatabase.Serializer.Deserialize<OrderState>(StorageTestDatabase.Serializer.SerializeToArray(fresh))!;

        Assert.Equal(fresh.Dispute, stored.Dispute);
        Assert.True(stored.HasVoidOpenAttempts);
        Assert.Equal(["pay-2"], stored.VoidOpenAttempts);
        Assert.Equal(fresh.Tracking, stored.TrackingOrEmpty);
        Assert.Equal([ServiceTicketKinds.CustomsHold], stored.TrackingTickets);
    }
}
