using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Orders;

public sealed class StockAllocationTests
{
    private static Dictionary<string, long> Stock(params (string Id, long Available)[] warehouses) =>
        warehouses.ToDictionary(w => w.Id, w => w.Available);

    [Fact]
    public void Single_warehouse_with_enough_stock_fills_the_line()
    {
        var result = StockAllocation.Allocate(3, ["wh-de"], Stock(("wh-de", 10)), preSaleRemaining: 0);

        Assert.True(result.Satisfied);
        Assert.Equal([("wh-de", 3L)], result.FromWarehouses);
        Assert.Equal(0, result.PreSaleQuantity);
        Assert.Equal(10, result.AvailableNow);
    }

    [Fact]
    public void Line_is_split_across_warehouses_in_rank_order()
    {
        var result = StockAllocation.Allocate(7, ["wh-de", "wh-fr", "wh-cn"], Stock(("wh-cn", 100), ("wh-de", 4), ("wh-fr", 2)), 0);

        Assert.True(result.Satisfied);
        Assert.Equal([("wh-de", 4L), ("wh-fr", 2L), ("wh-cn", 1L)], result.FromWarehouses);
    }

    [Fact]
    public void Nearest_warehouse_is_preferred_even_when_a_farther_one_has_more()
    {
        var result = StockAllocation.Allocate(2, ["wh-fr", "wh-cn"], Stock(("wh-cn", 100), ("wh-fr", 5)), 0);

        Assert.Equal([("wh-fr", 2L)], result.FromWarehouses);
    }

    [Fact]
    public void Pre_sale_tops_up_what_the_warehouses_lack()
    {
        var result = StockAllocation.Allocate(8, ["wh-de"], Stock(("wh-de", 5)), preSaleRemaining: 10);

        Assert.True(result.Satisfied);
        Assert.Equal([("wh-de", 5L)], result.FromWarehouses);
        Assert.Equal(3, result.PreSaleQuantity);
        Assert.Equal(15, result.AvailableNow);
    }

    [Fact]
    public void Pre_sale_alone_can_fill_a_line_when_every_warehouse_is_empty()
    {
        var result = StockAllocation.Allocate(4, ["wh-de"], Stock(("wh-de", 0)), preSaleRemaining: 4);

        Assert.True(result.Satisfied);
        Assert.Empty(result.FromWarehouses);
        Assert.Equal(4, result.PreSaleQuantity);
    }

    [Fact]
    public void Insufficient_stock_and_pre_sale_allocate_nothing_and_say_what_is_available()
    {
        var result = StockAllocation.Allocate(20, ["wh-de", "wh-fr"], Stock(("wh-de", 5), ("wh-fr", 6)), preSaleRemaining: 8);

        Assert.False(result.Satisfied);
        Assert.Empty(result.FromWarehouses);
        Assert.Equal(0, result.PreSaleQuantity);
        Assert.Equal(19, result.AvailableNow);
    }

    [Fact]
    public void Exactly_all_stock_and_pre_sale_is_enough()
    {
        var result = StockAllocation.Allocate(19, ["wh-de", "wh-fr"], Stock(("wh-de", 5), ("wh-fr", 6)), preSaleRemaining: 8);

        Assert.True(result.Satisfied);
        Assert.Equal(8, result.PreSaleQuantity);
    }

    [Fact]
    public void Unranked_warehouses_come_after_ranked_ones_in_id_order()
    {
        var result = StockAllocation.Allocate(6, ["wh-de"], Stock(("wh-z", 5), ("wh-de", 2), ("wh-b", 1), ("wh-a", 2)), 0);

        Assert.Equal([("wh-de", 2L), ("wh-a", 2L), ("wh-b", 1L), ("wh-z", 1L)], result.FromWarehouses);
    }

    [Fact]
    public void Warehouses_without_stock_are_skipped()
    {
        var result = StockAllocation.Allocate(3, ["wh-de", "wh-fr", "wh-gone", "wh-pl"], Stock(("wh-de", 0), ("wh-fr", 0), ("wh-pl", 9)), 0);

        Assert.Equal([("wh-pl", 3L)], result.FromWarehouses);
    }

    [Fact]
    public void Warehouse_ranked_twice_is_taken_from_once()
    {
        var result = StockAllocation.Allocate(3, ["wh-de", "wh-de", "wh-fr"], Stock(("wh-de", 2), ("wh-fr", 5)), 0);

        Assert.Equal([("wh-de", 2L), ("wh-fr", 1L)], result.FromWarehouses);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Quantity_must_be_positive(long quantity)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StockAllocation.Allocate(quantity, [], Stock(("wh", 5)), 0));
    }

    [Fact]
    public void Negative_pre_sale_or_availability_is_a_bug_not_an_input()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StockAllocation.Allocate(1, [], Stock(("wh", 5)), -1));
        Assert.Throws<ArgumentException>(() => StockAllocation.Allocate(1, [], Stock(("wh", -5)), 0));
    }

    [Fact]
    public void Random_allocations_never_take_more_than_available_and_always_sum_to_the_quantity()
    {
        var random = new Random(20261125);
        for (var run = 0; run < 2_000; run++)
        {
            var stock = Enumerable.Range(0, random.Next(0, 6)).ToDictionary(i => $"wh-{i}", _ => (long)random.Next(0, 10));
            var ranked = stock.Keys.Where(_ => random.Next(2) == 0).OrderBy(_ => random.Next()).ToArray();
            var preSale = (long)random.Next(0, 5);
            var quantity = (long)random.Next(1, 40);

            var result = StockAllocation.Allocate(quantity, ranked, stock, preSale);

            var fromWarehouses = result.FromWarehouses.Sum(a => a.Quantity);
            Assert.Equal(stock.Values.Sum() + preSale, result.AvailableNow);
            Assert.Equal(quantity <= result.AvailableNow, result.Satisfied);
            Assert.Equal(result.Satisfied ? quantity : 0, fromWarehouses + result.PreSaleQuantity);
            Assert.All(result.FromWarehouses, a => Assert.InRange(a.Quantity, 1, stock[a.WarehouseId]));
            Assert.InRange(result.PreSaleQuantity, 0, preSale);
            // Pre-sale is only used once warehouse stock is exhausted.
            Assert.True(result.PreSaleQuantity == 0 || fromWarehouses == stock.Values.Sum());
        }
    }
}
