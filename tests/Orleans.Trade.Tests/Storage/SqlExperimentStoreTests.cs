using Orleans.Trade.Analytics;
using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>
/// An experiment's exposures and its buyers' conversions read from the order rows (R-DAT-5), on both databases: the counts, and
/// the same buyers and conversions as the time series the sequential test replays (exposures at their first time, a buyer's
/// conversion at their first converting order, summed per bucket), which add up to the counts for every goal and seller.
/// </summary>
public sealed class SqlExperimentStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Until = T0.AddMinutes(3);

    private static OrderOutbox Order(string orderId, string buyerId, int second, OrderStatus status = OrderStatus.Paid, string sellerId = "s-1",
        OrderSource source = OrderSource.Checkout) =>
        new(new OrderSummary(orderId, buyerId, sellerId, status, new Money(100, "USD"), new Money(100, "USD"), 1, source, false,
            T0.AddSeconds(second), T0.AddSeconds(second), 1), [], []);

    private static async Task<SqlExperimentStore> SeedAsync(TradeDatabase database)
    {
        var store = new SqlExperimentStore(database);
        var recorded = await store.RecordAsync("exp-1", [("a1", "A", T0.AddSeconds(10)), ("b1", "B", T0.AddSeconds(15)), ("a2", "A", T0.AddSeconds(20)),
            ("a3", "A", T0.AddSeconds(65)), ("b2", "B", T0.AddSeconds(125)), ("b3", "B", T0.AddSeconds(130))], CancellationToken.None);
        Assert.Equal(6, recorded.Count);
        // Another experiment's exposure of the same buyer, and a1 exposed again later: neither changes exp-1's series.
        await store.RecordAsync("exp-2", [("a1", "B", T0)], CancellationToken.None);
        Assert.Empty(await store.RecordAsync("exp-1", [("a1", "A", T0.AddSeconds(100))], CancellationToken.None));

        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        await new SqlOrderStore(database).WriteAsync(connection, transaction, [
            // a1: an order before the exposure (not a conversion), then two: the first converts at second 70.
            Order("o-1", "a1", 5), Order("o-2", "a1", 70), Order("o-3", "a1", 80),
            // a2: an import, another seller's order (converts without a seller), an unpaid one (converts for placed only).
            Order("o-4", "a2", 30, source: OrderSource.Import), Order("o-5", "a2", 40, sellerId: "s-2"), Order("o-6", "a2", 130, OrderStatus.AwaitingPayment),
            // b1 converts at second 50; b2's order is after the end; b3's cancelled order converts for placed only.
            Order("o-7", "b1", 50), Order("o-8", "b2", 200), Order("o-9", "b3", 150, OrderStatus.Cancelled),
        ], CancellationToken.None);
        await transaction.CommitAsync();
        return store;
    }

    private static VariantStep Step(int minute, long visitors, long converted) => new(T0.AddMinutes(minute), visitors, converted);

    private static async Task<Dictionary<string, VariantStep[]>> HistoryAsync(SqlExperimentStore store, ExperimentGoal goal, string? sellerId,
        TimeSpan bucket)
    {
        var history = await store.HistoryAsync("exp-1", goal, sellerId, Until, bucket, CancellationToken.None);
        // The series add up to the counts the fixed-horizon test reads.
        var counts = await store.CountAsync("exp-1", goal, sellerId, Until, CancellationToken.None);
        Assert.Equal(counts.OrderBy(c => c.Variant, StringComparer.Ordinal), history.Select(h => h.Counts).OrderBy(c => c.Variant, StringComparer.Ordinal));
        return history.ToDictionary(h => h.Variant, h => h.Steps.ToArray());
    }

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task The_history_holds_each_variants_exposures_and_first_conversions_per_minute_in_time_order_and_adds_up_to_the_counts(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "experiments");
        await using var _ = database;
        var store = await SeedAsync(database);

        var placed = await HistoryAsync(store, ExperimentGoal.Placed, null, TimeSpan.FromMinutes(1));
        Assert.Equal([Step(0, 2, 1), Step(1, 1, 1)], placed["A"]);
        Assert.Equal([Step(0, 1, 1), Step(2, 2, 1)], placed["B"]);

        var ofSeller = await HistoryAsync(store, ExperimentGoal.Placed, "s-1", TimeSpan.FromMinutes(1));
        Assert.Equal([Step(0, 2, 0), Step(1, 1, 1), Step(2, 0, 1)], ofSeller["A"]);
        Assert.Equal([Step(0, 1, 1), Step(2, 2, 1)], ofSeller["B"]);

        var paid = await HistoryAsync(store, ExperimentGoal.Paid, "s-1", TimeSpan.FromMinutes(1));
        Assert.Equal([Step(0, 2, 0), Step(1, 1, 1)], paid["A"]);
        Assert.Equal([Step(0, 1, 1), Step(2, 2, 0)], paid["B"]);

        // By the second: each event at its own time.
        var bySecond = await HistoryAsync(store, ExperimentGoal.Placed, null, TimeSpan.FromSeconds(1));
        Assert.Equal([new(T0.AddSeconds(10), 1, 0), new(T0.AddSeconds(20), 1, 0), new(T0.AddSeconds(40), 0, 1), new(T0.AddSeconds(65), 1, 0),
            new VariantStep(T0.AddSeconds(70), 0, 1)], bySecond["A"]);

        Assert.Empty(await store.HistoryAsync("no-such-experiment", ExperimentGoal.Placed, null, Until, TimeSpan.FromMinutes(1), CancellationToken.None));
    }
}
