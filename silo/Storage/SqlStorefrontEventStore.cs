using System.Data.Common;
using Microsoft.Extensions.Options;
using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Silo.Storage;

/// <summary>
/// Storefront events (R-DAT-2), written by the API in one statement per batch, and the funnel counted by the database from them
/// and the order rows; old events deleted in bounded batches (<see cref="StorefrontEventPruner"/>).
/// </summary>
public sealed class SqlStorefrontEventStore(TradeDatabase database) : IStorefrontEvents
{
    public async Task<IReadOnlySet<string>> RecordAsync(IReadOnlyList<StorefrontEventRow> events, CancellationToken cancellationToken)
    {
        var recorded = new HashSet<string>(StringComparer.Ordinal);
        if (events.Count == 0)
        {
            return recorded;
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Provider == StorageProvider.Postgres)
        {
            // One statement, so one implicit transaction: the batch is stored whole or not at all.
            await using var insert = connection.Command("""
                INSERT INTO storefront_events (event_id, kind, visitor, sku_id, seller_id, at)
                SELECT * FROM unnest(@ids, @kinds, @visitors, @skus, @sellers, @ats)
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id
                """)
                .With("ids", events.Select(e => e.EventId).ToArray()).With("kinds", events.Select(e => (short)e.Kind).ToArray())
                .With("visitors", events.Select(e => e.Visitor).ToArray()).With("skus", events.Select(e => e.SkuId).ToArray())
                .With("sellers", events.Select(e => e.SellerId).ToArray())
                .WithTimestamps("ats", events.Select(e => (DateTimeOffset?)e.At));
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                recorded.Add(reader.GetString(0));
            }
            return recorded;
        }
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.Command("""
            INSERT INTO storefront_events (event_id, kind, visitor, sku_id, seller_id, at) VALUES (@id, @kind, @visitor, @sku, @seller, @at)
            ON CONFLICT (event_id) DO NOTHING
            """, transaction);
        foreach (var e in events)
        {
            command.Parameters.Clear();
            command.With("id", e.EventId).With("kind", (int)e.Kind).With("visitor", e.Visitor).With("sku", e.SkuId).With("seller", e.SellerId)
                .With("at", database.ToDb(e.At));
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                recorded.Add(e.EventId);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return recorded;
    }

    public async Task<IReadOnlyDictionary<string, string>> SellersOfAsync(IReadOnlyCollection<string> skuIds, CancellationToken cancellationToken)
    {
        var sellers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (skuIds.Count == 0)
        {
            return sellers;
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("");
        // The SKU ledger's state is JSON with the grain's member names; a SKU with stock but no catalog yet has no seller.
        var seller = database.Provider == StorageProvider.Postgres ? "state #>> '{Catalog,SellerId}'" : "json_extract(state, '$.Catalog.SellerId')";
        command.CommandText = $"SELECT sku_id, {seller} FROM sku_ledger WHERE {command.WithIdsIn(database.Provider, "sku_id", skuIds.ToArray(), "skus")}";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!reader.IsDBNull(1))
            {
                sellers[reader.GetString(0)] = reader.GetString(1);
            }
        }
        return sellers;
    }

    public async Task<IReadOnlyList<FunnelMaskCount>> FunnelAsync(FunnelQuery query, CancellationToken cancellationToken)
    {
        var postgres = database.Provider == StorageProvider.Postgres;
        string Day(string column) => !query.ByDay ? "0" : postgres ? $"CAST(floor(extract(epoch FROM {column}) / 86400) AS bigint)" : $"({column} / 86400000)";
        var placed = Funnel.Bit(FunnelStep.Placed);
        var paid = placed | Funnel.Bit(FunnelStep.Paid);
        // Per visitor (and day) the sum of their distinct step bits is their mask: each storefront kind is one bit, and a buyer's
        // orders give one row, placed or placed and paid. Then visitors counted per mask: a few rows, however many visitors.
        var sql = $"""
            SELECT day, mask, COUNT(*) FROM (
                SELECT day, visitor, SUM(DISTINCT step) AS mask FROM (
                    SELECT {Day("e.at")} AS day, e.visitor AS visitor, e.kind AS step FROM storefront_events e
                    WHERE e.at >= @from AND e.at < @to{(query.SellerId is null ? "" : " AND e.seller_id = @seller")}{(query.SkuId is null ? "" : " AND e.sku_id = @sku")}
                    UNION ALL
                    SELECT {Day("o.created_at")} AS day, o.buyer_id AS visitor,
                           MAX(CASE WHEN {AfterSalesCounting.Condition("o")} THEN {paid} ELSE {placed} END) AS step
                    FROM orders o
                    WHERE o.created_at >= @from AND o.created_at < @to AND o.source <> '{OrderSource.Import}'{(query.SellerId is null ? "" : " AND o.seller_id = @seller")}
                    GROUP BY 1, 2
                ) steps GROUP BY day, visitor
            ) visitors GROUP BY day, mask
            """;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(sql).With("from", database.ToDb(query.From)).With("to", database.ToDb(query.To)).WithSeller(query.SellerId);
        if (query.SkuId is not null)
        {
            command.With("sku", query.SkuId);
        }
        var counts = new List<FunnelMaskCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add(new FunnelMaskCount(Convert.ToInt64(reader.GetValue(0)), Convert.ToInt32(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2))));
        }
        return counts;
    }

    /// <summary>Deletes at most <paramref name="limit"/> events older than <paramref name="before"/>; answers how many.</summary>
    public async Task<int> PruneAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("""
            DELETE FROM storefront_events WHERE event_id IN (SELECT event_id FROM storefront_events WHERE at < @before LIMIT @limit)
            """).With("before", database.ToDb(before)).With("limit", limit);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>
/// Deletes storefront events past <c>Analytics:FunnelRetentionDays</c>, a bounded batch at a time (each its own short
/// transaction, so the inserts beside it never wait long), every <see cref="Period"/> until none is left.
/// </summary>
public sealed class StorefrontEventPruner(SqlStorefrontEventStore store, IOptions<FunnelOptions> options, Orleans.Trade.Common.TradeClock clock,
    ILogger<StorefrontEventPruner> logger) : BackgroundService
{
    public const int BatchSize = 10_000;
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var before = clock.GetUtcNow() - options.Value.Retention;
                long deleted = 0;
                int batch;
                do
                {
                    deleted += batch = await store.PruneAsync(before, BatchSize, stoppingToken);
                }
                while (batch == BatchSize && !stoppingToken.IsCancellationRequested);
                if (deleted > 0)
                {
                    logger.LogInformation("Deleted {Count} storefront events older than {Before:u}", deleted, before);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Deleting old storefront events failed; trying again in {Period}", Period);
            }
            await Task.Delay(Period, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }
}
