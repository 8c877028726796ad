using System.Globalization;
using Orleans.Trade.Analytics;
using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Silo.Storage;

/// <summary>Experiments' exposures (migration 0033), and their buyers' conversions counted from the order rows.</summary>
public sealed class SqlExperimentStore(TradeDatabase database) : IExperimentExposures
{
    public async Task<IReadOnlySet<string>> RecordAsync(string experimentId, IReadOnlyList<(string BuyerId, string Variant, DateTimeOffset At)> exposures,
        CancellationToken cancellationToken)
    {
        var recorded = new HashSet<string>(StringComparer.Ordinal);
        if (exposures.Count == 0)
        {
            return recorded;
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Provider == StorageProvider.Postgres)
        {
            // One statement, so one implicit transaction: the batch is stored whole or not at all.
            await using var insert = connection.Command("""
                INSERT INTO experiment_exposures (experiment_id, buyer_id, variant, first_at)
                SELECT @experiment, t.buyer_id, t.variant, t.at FROM unnest(@buyers, @variants, @ats) AS t(buyer_id, variant, at)
                ON CONFLICT (experiment_id, buyer_id) DO NOTHING
                RETURNING buyer_id
                """)
                .With("experiment", experimentId).With("buyers", exposures.Select(e => e.BuyerId).ToArray())
                .With("variants", exposures.Select(e => e.Variant).ToArray()).WithTimestamps("ats", exposures.Select(e => (DateTimeOffset?)e.At));
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                recorded.Add(reader.GetString(0));
            }
            return recorded;
        }
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.Command("""
            INSERT INTO experiment_exposures (experiment_id, buyer_id, variant, first_at) VALUES (@experiment, @buyer, @variant, @at)
            ON CONFLICT (experiment_id, buyer_id) DO NOTHING
            """, transaction);
        foreach (var (buyerId, variant, at) in exposures)
        {
            command.Parameters.Clear();
            command.With("experiment", experimentId).With("buyer", buyerId).With("variant", variant).With("at", database.ToDb(at));
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                recorded.Add(buyerId);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return recorded;
    }

    public async Task<IReadOnlyList<VariantCounts>> CountAsync(string experimentId, ExperimentGoal goal, string? sellerId, DateTimeOffset until,
        CancellationToken cancellationToken)
    {
        // A buyer converts by an order created from their first exposure until the end: read through orders_by_buyer.
        var sql = $"""
            SELECT x.variant, COUNT(*), SUM(CASE WHEN EXISTS (
                SELECT 1 FROM orders o
                WHERE o.buyer_id = x.buyer_id AND o.created_at >= x.first_at AND o.created_at < @until AND o.source <> '{OrderSource.Import}'
                    {(sellerId is null ? "" : "AND o.seller_id = @seller")} {(goal == ExperimentGoal.Paid ? "AND " + AfterSalesCounting.Condition("o") : "")}
            ) THEN 1 ELSE 0 END)
            FROM experiment_exposures x WHERE x.experiment_id = @experiment GROUP BY x.variant
            """;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(sql).With("experiment", experimentId).With("until", database.ToDb(until));
        if (sellerId is not null)
        {
            command.With("seller", sellerId);
        }
        var counts = new List<VariantCounts>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add(new VariantCounts(reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture),
                Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture)));
        }
        return counts;
    }
}
