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

    // Every read counts the buyers first exposed before @until only: one exposed after an experiment's end (moved earlier once it ran)
    // or reported ahead of now could never convert in the window, and would count as a visitor who did not.

    /// <summary>An exposed buyer's converting orders: of the buyer, from their first exposure until <c>@until</c>, not imports (read through orders_by_buyer).</summary>
    private static string Converting(ExperimentGoal goal, string? sellerId) => $"""
        FROM orders o
        WHERE o.buyer_id = x.buyer_id AND o.created_at >= x.first_at AND o.created_at < @until AND o.source <> '{OrderSource.Import}'
            {(sellerId is null ? "" : "AND o.seller_id = @seller")} {(goal == ExperimentGoal.Paid ? "AND " + AfterSalesCounting.Condition("o") : "")}
        """;

    public async Task<IReadOnlyList<VariantCounts>> CountAsync(string experimentId, ExperimentGoal goal, string? sellerId, DateTimeOffset until,
        CancellationToken cancellationToken)
    {
        var sql = $"""
            SELECT x.variant, COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 {Converting(goal, sellerId)}) THEN 1 ELSE 0 END)
            FROM experiment_exposures x WHERE x.experiment_id = @experiment AND x.first_at < @until GROUP BY x.variant
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

    public async Task<IReadOnlyList<VariantHistory>> HistoryAsync(string experimentId, ExperimentGoal goal, string? sellerId, DateTimeOffset until,
        TimeSpan bucket, CancellationToken cancellationToken)
    {
        var bucketMs = (long)bucket.TotalMilliseconds;
        if (bucketMs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(bucket), "A bucket is at least a millisecond.");
        }
        // Summed per bucket in the database: an experiment of a million buyers answers a row per variant and bucket with events. Each
        // exposed buyer's orders are probed once: PostgreSQL spreads a buyer's two events by a lateral VALUES, SQLite (which has no
        // LATERAL) reads a materialized list of the buyers twice. date_part, not extract: double arithmetic, not numeric.
        var sql = database.Provider == StorageProvider.Postgres
            ? $"""
                SELECT t.variant, e.b, SUM(e.visitors), SUM(e.converted)
                FROM (
                    SELECT x.variant, x.first_at, (SELECT MIN(o.created_at) {Converting(goal, sellerId)}) AS converted_at
                    FROM experiment_exposures x WHERE x.experiment_id = @experiment AND x.first_at < @until
                ) t CROSS JOIN LATERAL (VALUES (floor(date_part('epoch', t.first_at) * 1000 / @bucket)::bigint, 1, 0),
                    (floor(date_part('epoch', t.converted_at) * 1000 / @bucket)::bigint, 0, 1)) AS e(b, visitors, converted)
                WHERE e.b IS NOT NULL
                GROUP BY t.variant, e.b ORDER BY e.b
                """
            : $"""
                WITH exposed AS MATERIALIZED (
                    SELECT x.variant, x.first_at, (SELECT MIN(o.created_at) {Converting(goal, sellerId)}) AS converted_at
                    FROM experiment_exposures x WHERE x.experiment_id = @experiment AND x.first_at < @until
                ), events AS (
                    SELECT variant, first_at AS event_at, 1 AS visitors, 0 AS converted FROM exposed
                    UNION ALL
                    SELECT variant, converted_at, 0, 1 FROM exposed WHERE converted_at IS NOT NULL
                )
                SELECT e.variant, e.event_at / @bucket AS b, SUM(e.visitors), SUM(e.converted) FROM events e GROUP BY e.variant, b ORDER BY b
                """;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(sql).With("experiment", experimentId).With("until", database.ToDb(until)).With("bucket", bucketMs);
        if (sellerId is not null)
        {
            command.With("seller", sellerId);
        }
        var steps = new Dictionary<string, List<VariantStep>>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var variant = reader.GetString(0);
            if (!steps.TryGetValue(variant, out var list))
            {
                steps[variant] = list = [];
            }
            list.Add(new VariantStep(DateTimeOffset.UnixEpoch.AddMilliseconds(Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture) * bucketMs),
                Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture)));
        }
        return steps.Select(s => new VariantHistory(s.Key, s.Value)).ToArray();
    }
}
