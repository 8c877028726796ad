using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>
/// The stores of ad ROI and category margin (R-DAT-4), on both databases: the order rows' channel columns (written by attributed
/// batches, kept by later writes without them), the paid orders' line facts (once per line, a retried write adding nothing, a
/// cancelled order left out), and ad spend upserted per seller, channel, campaign, day and currency. And the pure rules deciding
/// which write carries the facts and what they say.
/// </summary>
public sealed class MarketingStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private static OrderOutbox Row(string orderId, long version, OrderStatus status, long total, string sellerId = "s-1", string? channel = null,
        string? campaign = null, IReadOnlyList<OrderLineFact>? facts = null, string currency = "USD") =>
        new(new OrderSummary(orderId, "b-1", sellerId, status, new Money(total, currency), new Money(total, currency), 1, OrderSource.Checkout, false,
            T0.AddHours(1), T0.AddMinutes(version), version, Channel: channel, Campaign: campaign), [], [], LineFacts: facts);

    private static OrderLineFact Fact(string orderId, int line, string? category, long units, long paid, long commission, long? unitCost,
        string sellerId = "s-1") =>
        new(orderId, line, sellerId, T0.AddHours(1), "sku-" + line, category, units, paid, commission, unitCost, "USD");

    private static async Task WriteAsync(TradeDatabase database, params OrderOutbox[] outboxes)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        await new SqlOrderStore(database).WriteAsync(connection, transaction, outboxes, CancellationToken.None);
        await transaction.CommitAsync();
    }

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task Paid_orders_are_counted_per_channel_and_their_line_facts_per_category(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "marketing");
        await using var _ = database;
        var store = new SqlMarketingStore(database);

        // Placed (unpaid, no facts): an attributed order in a batch with an unattributed one.
        await WriteAsync(database, Row("o-1", 1, OrderStatus.AwaitingPayment, 1_000, channel: "email", campaign: "xmas"),
            Row("o-2", 1, OrderStatus.AwaitingPayment, 400));
        // Paid: their facts ride with the paid write; o-1's write is one of a previous release (no channel): its channel is kept.
        await WriteAsync(database,
            Row("o-1", 2, OrderStatus.AwaitingShipment, 1_000, facts: [Fact("o-1", 0, "toys", 2, 600, 90, 200), Fact("o-1", 1, "home", 1, 400, 32, null)]),
            Row("o-2", 2, OrderStatus.AwaitingShipment, 400, facts: [Fact("o-2", 0, "toys", 1, 400, 60, 150)]));
        // A retried paid write (the same facts again) adds nothing; a later change carries none.
        await WriteAsync(database, Row("o-2", 2, OrderStatus.AwaitingShipment, 400, facts: [Fact("o-2", 0, "toys", 1, 400, 60, 150)]));
        await WriteAsync(database, Row("o-2", 3, OrderStatus.Shipped, 400));
        // Another seller's order, paid then cancelled: it drops out of both reports.
        await WriteAsync(database, Row("o-3", 1, OrderStatus.Paid, 700, sellerId: "s-2", channel: "email",
            facts: [Fact("o-3", 0, "toys", 1, 700, 105, 100, sellerId: "s-2")]));
        await WriteAsync(database, Row("o-3", 2, OrderStatus.Cancelled, 700, sellerId: "s-2"));
        // An unpaid one of s-2 with a channel: not a purchase.
        await WriteAsync(database, Row("o-4", 1, OrderStatus.AwaitingPayment, 900, sellerId: "s-2", channel: "email"));

        var sales = (await store.SalesByChannelAsync(T0, T0.AddDays(1), null, null, CancellationToken.None))
            .OrderBy(s => s.Channel).ToArray();
        // o-2's one line had a cost: its margin 400 − 60 − 150 is known; o-1's lamp had none, so its channel's margin is not.
        Assert.Equal([new ChannelSales(null, null, "USD", 1, 400, 190), new ChannelSales("email", "xmas", "USD", 1, 1_000)], sales);
        Assert.Equal([new ChannelSales("email", "xmas", "USD", 1, 1_000)],
            await store.SalesByChannelAsync(T0, T0.AddDays(1), "s-1", "email", CancellationToken.None));
        Assert.Empty(await store.SalesByChannelAsync(T0, T0.AddDays(1), "s-2", null, CancellationToken.None));

        var margin = (await store.CategoryMarginAsync(T0, T0.AddDays(1), null, CancellationToken.None)).OrderBy(m => m.Category).ToArray();
        Assert.Equal([
            new CategoryMarginStats("home", "USD", 1, 1, 400, 32, 0, 0, 0, 0),
            new CategoryMarginStats("toys", "USD", 2, 3, 1_000, 150, 3, 1_000, 150, 2 * 200 + 150),
        ], margin);
        Assert.Equal([new CategoryMarginStats(null, "USD", 2, 4, 1_400, 182, 3, 1_000, 150, 550)],
            await store.CategoryMarginTotalsAsync(T0, T0.AddDays(1), "s-1", CancellationToken.None));
        Assert.Empty(await store.CategoryMarginAsync(T0, T0.AddDays(1), "s-2", CancellationToken.None));
        Assert.Empty(await store.CategoryMarginAsync(T0.AddDays(1), T0.AddDays(2), null, CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task Ad_spend_is_replaced_per_seller_channel_campaign_day_and_currency_not_added(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "adspend");
        await using var _ = database;
        var store = new SqlMarketingStore(database);
        var day = DateOnly.FromDateTime(T0.UtcDateTime);
        AdSpendEntry[] entries =
        [
            new("s-1", "email", "xmas", day, "USD", 500),
            new("s-1", "email", null, day, "USD", 100),
            new(null, "email", "xmas", day, "USD", 1_000), // the platform's
            new("s-1", "email", "xmas", day, "EUR", 70),
            new("s-1", "email", "xmas", day.AddDays(1), "USD", 30),
        ];
        Assert.Equal(new[] { true, true, true, true, true }, await store.RecordSpendAsync(entries, T0, "analyst:a", CancellationToken.None));
        Assert.Equal(new[] { false, false, false, false, false }, await store.RecordSpendAsync(entries, T0, "analyst:a", CancellationToken.None));
        Assert.Equal(new[] { true, false }, await store.RecordSpendAsync([entries[0] with { AmountMinor = 600 }, entries[1]], T0, "seller:s-1", CancellationToken.None));

        var mine = (await store.SpendAsync(day, day.AddDays(1), "s-1", null, CancellationToken.None)).OrderBy(s => s.Campaign).ThenBy(s => s.Currency).ToArray();
        Assert.Equal([new ChannelSpend("email", null, "USD", 100), new ChannelSpend("email", "xmas", "EUR", 70), new ChannelSpend("email", "xmas", "USD", 600)], mine);
        var all = (await store.SpendAsync(day, day.AddDays(2), null, "email", CancellationToken.None)).Where(s => s.Currency == "USD" && s.Campaign == "xmas");
        Assert.Equal(600 + 1_000 + 30, Assert.Single(all).SpendMinor);
        Assert.Empty(await store.SpendAsync(day, day.AddDays(1), null, "affiliate", CancellationToken.None));
    }

    [Fact]
    public void The_write_that_first_stores_an_order_as_paid_carries_its_lines_paid_value_commission_and_cost()
    {
        var state = new OrderState
        {
            Phase = OrderPhase.Live,
            Status = OrderStatus.AwaitingPayment,
            Placement = new OrderPlacement("o-1", "c-1", "b-1", "s-1", "USD", null!, [], OrderSource.Checkout, null, "buyer:b-1", "SAVE"),
            Lines =
            [
                new OrderLine("sku-1", "Toy", 2, new Money(3_000, "USD"), new Money(6_000, "USD"), [], "toys", new Money(1_200, "USD")),
                new OrderLine("sku-2", "Lamp", 1, new Money(4_005, "USD"), new Money(4_005, "USD"), [], "home"),
            ],
            Totals = new OrderTotals(new Money(9_005, "USD"), new Money(9_005, "USD"), 1m, T0),
            Coupon = new OrderCoupon("SAVE", new Money(1_000, "USD"), [600, 400]),
            CreatedAt = T0,
        };
        Assert.False(OrderPlacing.LineFactsDue(state)); // awaiting payment: a flash sale's placing write carries none
        state.Status = OrderStatus.AwaitingShipment;
        Assert.True(OrderPlacing.LineFactsDue(state));

        var facts = OrderPlacing.LineFacts(state, "o-1", category => category == "toys" ? 1_500 : 800);
        Assert.Equal(new OrderLineFact("o-1", 0, "s-1", T0, "sku-1", "toys", 2, 5_400, 810, 1_200, "USD"), facts[0]);
        // 3,605 × 8% = 288.4: rounded per line, half away from zero, as the escrow's release counts it.
        Assert.Equal(new OrderLineFact("o-1", 1, "s-1", T0, "sku-2", "home", 1, 3_605, 288, null, "USD"), facts[1]);

        state.LineFactsWritten = true;
        Assert.False(OrderPlacing.LineFactsDue(state));
        state.LineFactsWritten = false;
        state.Status = OrderStatus.Cancelled;
        Assert.False(OrderPlacing.LineFactsDue(state));
    }
}
