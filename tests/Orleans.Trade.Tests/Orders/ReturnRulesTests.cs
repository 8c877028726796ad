using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>The pure rules of returns (R-DIS-4, R-DIS-5): what a return refunds, which lines it may name, and what an order with one waits for.</summary>
public sealed class ReturnRulesTests
{
    private static readonly DateTimeOffset Delivery = new(2026, 12, 4, 15, 0, 0, TimeSpan.Zero);

    private static OrderLine Line(string sku, long quantity, long unitMinor, string? category = "home") =>
        new(sku, "Item " + sku, quantity, new Money(unitMinor, "USD"), new Money(unitMinor * quantity, "USD"), [], category);

    private static readonly OrderLine[] Lines = [Line("sku-a", 3, 1_000), Line("sku-b", 1, 2_501, "gift_cards")];

    // Goods 5,501; VAT 1,045 (19%): 6,546 charged.
    private static readonly OrderTotals Taxed = new(new Money(5_501, "USD"), new Money(6_546, "USD"), 1m, Delivery, new Money(1_045, "USD"), "DE");

    [Fact]
    public void A_return_of_some_units_refunds_their_share_of_the_line_and_of_the_vat_rounded_down()
    {
        // One of three units: 1,000 of goods and floor(1,045 × 1,000 / 5,501) = 189 of VAT.
        Assert.Equal(1_189, ReturnRules.Amount(Lines, Taxed, [new ReturnLine("sku-a", 1)], 0));
        // Without VAT, just the goods.
        var untaxed = Taxed with { Tax = null, TaxCountry = null };
        Assert.Equal(2_000, ReturnRules.Amount(Lines, untaxed, [new ReturnLine("sku-a", 2)], 0));
    }

    [Fact]
    public void A_return_of_every_unit_refunds_everything_not_refunded_yet_and_no_return_refunds_more_than_that()
    {
        ReturnLine[] all = [new("sku-a", 3), new("sku-b", 1)];
        Assert.Equal(6_546, ReturnRules.Amount(Lines, Taxed, all, 0));
        Assert.Equal(6_046, ReturnRules.Amount(Lines, Taxed, all, 500));
        // A partial refund earlier leaves less than the units' share: the return refunds what is left.
        Assert.Equal(46, ReturnRules.Amount(Lines, Taxed, [new ReturnLine("sku-b", 1)], 6_500));
        Assert.Equal(0, ReturnRules.Amount(Lines, Taxed, [new ReturnLine("sku-a", 1)], 6_546));
    }

    [Fact]
    public void Lines_a_return_names_must_be_the_orders_each_once_and_no_more_units_than_it_holds()
    {
        Assert.Null(ReturnRules.CheckLines(Lines, [new ReturnLine("sku-a", 3), new ReturnLine("sku-b", 1)]));
        Assert.Equal("lines[0].skuId", ReturnRules.CheckLines(Lines, [new ReturnLine("sku-x", 1)])?.Field);
        Assert.Equal("lines[1].skuId", ReturnRules.CheckLines(Lines, [new ReturnLine("sku-a", 1), new ReturnLine("sku-a", 1)])?.Field);
        Assert.Equal("lines[0].quantity", ReturnRules.CheckLines(Lines, [new ReturnLine("sku-a", 4)])?.Field);
        Assert.Equal("lines[0].quantity", ReturnRules.CheckLines(Lines, [new ReturnLine("sku-a", 0)])?.Field);
    }

    [Fact]
    public void Units_refunded_before_are_not_there_to_refund_again_and_the_units_left_refund_everything_left()
    {
        var refunded = new Dictionary<string, long> { ["sku-a"] = 2 };

        Assert.Null(ReturnRules.CheckLines(Lines, [new ReturnLine("sku-a", 1), new ReturnLine("sku-b", 1)], refunded));
        var tooMany = ReturnRules.CheckLines(Lines, [new ReturnLine("sku-a", 2)], refunded);
        Assert.Equal("lines[0].quantity", tooMany?.Field);
        Assert.Contains("2 of the 3 units", tooMany?.Reason);
        Assert.Equal("lines[0].skuId", ReturnRules.CheckLines(Lines, [new ReturnLine("sku-a", 1)], new Dictionary<string, long> { ["sku-a"] = 3 })?.Field);
        // The last unit of sku-a and sku-b are every unit left: the rest of what was charged (2,378 went back for the two units).
        Assert.Equal(6_546 - 2_378, ReturnRules.Amount(Lines, Taxed, [new ReturnLine("sku-a", 1), new ReturnLine("sku-b", 1)], 2_378, null, refunded));
        // sku-b alone is not every unit left: its own share.
        Assert.Equal(2_501 + 475, ReturnRules.Amount(Lines, Taxed, [new ReturnLine("sku-b", 1)], 2_378, null, refunded));
        // With sku-a fully refunded, sku-b alone is everything left.
        Assert.Equal(6_546 - 3_567, ReturnRules.Amount(Lines, Taxed, [new ReturnLine("sku-b", 1)], 3_567, null, new Dictionary<string, long> { ["sku-a"] = 3 }));
    }

    [Fact]
    public void Goods_of_an_excluded_category_cannot_be_returned_for_no_reason_and_goods_without_a_category_can()
    {
        string[] excluded = ["gift_cards", "groceries"];
        Assert.Null(ReturnRules.NotReturnableForNoReason(Lines, [new ReturnLine("sku-a", 1)], excluded));
        var refused = ReturnRules.NotReturnableForNoReason(Lines, [new ReturnLine("sku-a", 1), new ReturnLine("sku-b", 1)], excluded);
        Assert.Equal("lines[1].skuId", refused?.Field);
        Assert.Contains("gift_cards", refused?.Reason);
        Assert.Null(ReturnRules.NotReturnableForNoReason([Line("sku-c", 1, 100, null)], [new ReturnLine("sku-c", 1)], excluded));
    }

    private static ReturnView Return(ReturnStatus status, DateTimeOffset at) => new("r-1", status, ReturnReason.NoReason, "too small",
        [new ReturnLine("sku-a", 1)], new Money(1_189, "USD"), false, "buyer:buyer-1", at, at.AddHours(48), [],
        ShipBy: at.AddDays(3), ReceiptDueBy: at.AddDays(10), ArbitrationDueAt: at.AddDays(12));

    private static OrderState Delivered()
    {
        var options = new OrderOptions();
        return new OrderState
        {
            Phase = OrderPhase.Live,
            Status = OrderStatus.Delivered,
            Placement = new OrderPlacement("o-1", "chk-1", "buyer-1", "seller-1", "USD",
                new ShippingAddress("Anna Schmidt", "Invalidenstr. 1", null, "Berlin", null, "10115", "DE", "+49 30 1234567"),
                [new CartLine("sku-a", 3)], OrderSource.Checkout, null, "buyer-1", null),
            Lines = [.. Lines],
            Totals = Taxed,
            Deadlines = new OrderDeadlines(null, null, Delivery + options.AutoCompleteAfter),
        };
    }

    [Fact]
    public void An_order_with_an_open_return_waits_for_the_returns_own_deadline_instead_of_its_protection_window()
    {
        var options = new OrderOptions();
        var order = Delivered();
        var requested = Delivery.AddDays(14);
        var now = requested.AddMinutes(1);

        order.Return = Return(ReturnStatus.AwaitingAddress, requested);
        Assert.Equal(requested.AddHours(48), OrderPlacing.NextWake(order, now, options));
        order.Return = order.Return with { Status = ReturnStatus.AwaitingShipment };
        Assert.Equal(requested.AddDays(3), OrderPlacing.NextWake(order, now, options));
        order.Return = order.Return with { Status = ReturnStatus.Shipped };
        Assert.Equal(requested.AddDays(10), OrderPlacing.NextWake(order, now, options));
        // Under arbitration only the arbitrators' ticket is due: the order does nothing by itself.
        order.Return = order.Return with { Status = ReturnStatus.UnderArbitration };
        Assert.Null(OrderPlacing.NextWake(order, now, options));
        Assert.Equal(requested.AddDays(12), order.Return.DueAt);
        // Ended, the protection window counts again (passed meanwhile: due at once).
        order.Return = order.Return with { Status = ReturnStatus.Refunded };
        Assert.Equal(Delivery + options.AutoCompleteAfter, OrderPlacing.NextWake(order, now, options));
        Assert.Null(order.Return.DueAt);
    }

    [Fact]
    public void Goods_to_put_back_into_stock_keep_the_order_waking_until_the_skus_took_them()
    {
        var options = new OrderOptions();
        var order = Delivered();
        var now = Delivery.AddDays(1);
        order.Return = Return(ReturnStatus.Refunded, Delivery) with { RestockWarehouseId = "wh-de" };
        Assert.True(OrderPlacing.HasOutboxWork(order));
        Assert.Equal(now + options.DeadlineCheckPeriod, OrderPlacing.NextWake(order, now, options));
        order.Return = order.Return with { Restocked = true };
        Assert.False(OrderPlacing.HasOutboxWork(order));
        Assert.Equal(Delivery + options.AutoCompleteAfter, OrderPlacing.NextWake(order, now, options));
    }

    [Fact]
    public void An_order_state_stores_its_return()
    {
        var order = Delivered();
        order.Return = Return(ReturnStatus.Shipped, Delivery) with
        {
            ReturnAddress = new ShippingAddress("Returns desk", "Lagerstrasse 1", null, "Hamburg", null, "20095", "DE", "+49 40 123456"),
            Parcel = new ReturnParcel("DHL", "BACK1"),
        };
        var stored = StorageTestDatabase.Serializer.Deserialize<OrderState>(StorageTestDatabase.Serializer.SerializeToArray(order))!;

        Assert.Equal(ReturnStatus.Shipped, stored.Return!.Status);
        Assert.Equal(order.Return.Lines, stored.Return.Lines);
        Assert.Equal(order.Return.ReturnAddress, stored.Return.ReturnAddress);
        Assert.Equal(order.Return.Parcel, stored.Return.Parcel);
        Assert.Equal(order.Return.ReceiptDueBy, stored.Return.ReceiptDueBy);
        Assert.Equal(order.Return.Amount, stored.Return.Amount);
    }
}
