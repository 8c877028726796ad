using System.Data.Common;
using System.Globalization;
using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Api.Orders;

namespace Orleans.Trade.Silo.Storage;

/// <summary>
/// Ad spend (migration 0034: a row per seller or platform, channel, campaign, day and currency), and ad ROI and category margin read
/// from the order rows' channel columns and the paid orders' line facts (R-DAT-4). Counted by the database: a row per group, however
/// many orders.
/// </summary>
public sealed class SqlMarketingStore(TradeDatabase database) : IMarketingAnalytics
{
    private bool Postgres => database.Provider == StorageProvider.Postgres;

    /// <summary>A day as each database keeps it: <c>date</c> on PostgreSQL, 'yyyy-MM-dd' text on SQLite (which orders alike).</summary>
    private object Day(DateOnly day) => Postgres ? day : day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The platform's own spend is stored under seller '' and spend on a whole channel under campaign '': the key has no nulls.</summary>
    private const string Platform = "";

    public async Task<bool[]> RecordSpendAsync(IReadOnlyList<AdSpendEntry> entries, DateTimeOffset at, string recordedBy, CancellationToken cancellationToken)
    {
        var changed = new bool[entries.Count];
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            // A re-sent import replaces the day's amount; the same amount again changes nothing (0 rows: unchanged).
            await using var upsert = connection.Command("""
                    INSERT INTO ad_spend (seller_id, channel, campaign, day, currency, amount_minor, recorded_at, recorded_by)
                    VALUES (@seller, @channel, @campaign, @day, @currency, @amount, @at, @by)
                    ON CONFLICT (seller_id, channel, campaign, day, currency) DO UPDATE SET
                        amount_minor = excluded.amount_minor, recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by
                    WHERE ad_spend.amount_minor <> excluded.amount_minor
                    """, transaction)
                .With("seller", e.SellerId ?? Platform).With("channel", e.Channel).With("campaign", e.Campaign ?? "").With("day", Day(e.Day))
                .With("currency", e.Currency).With("amount", e.AmountMinor).With("at", database.ToDb(at)).With("by", recordedBy);
            changed[i] = await upsert.ExecuteNonQueryAsync(cancellationToken) == 1;
        }
        await transaction.CommitAsync(cancellationToken);
        return changed;
    }

    public async Task<IReadOnlyList<ChannelSpend>> SpendAsync(DateOnly firstDay, DateOnly endDay, string? sellerId, string? channel,
        CancellationToken cancellationToken)
    {
        var rows = new List<ChannelSpend>();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"""
            SELECT channel, campaign, currency, SUM(amount_minor) FROM ad_spend
            WHERE day >= @first AND day < @end{(sellerId is null ? "" : " AND seller_id = @seller")}{(channel is null ? "" : " AND channel = @channel")}
            GROUP BY channel, campaign, currency
            """).With("first", Day(firstDay)).With("end", Day(endDay)).WithSeller(sellerId);
        if (channel is not null)
        {
            command.With("channel", channel);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var campaign = reader.GetString(1);
            rows.Add(new ChannelSpend(reader.GetString(0), campaign.Length == 0 ? null : campaign, reader.GetString(2), Convert.ToInt64(reader.GetValue(3))));
        }
        return rows;
    }

    public async Task<IReadOnlyList<ChannelSales>> SalesByChannelAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId, string? channel,
        CancellationToken cancellationToken)
    {
        var rows = new List<ChannelSales>();
        await using var connection = await database.OpenAsync(cancellationToken);
        // The window's paid orders, as the service score reads them (a seller's through its index, all sellers' through the table).
        await using var command = connection.Command($"""
            SELECT o.channel, o.campaign, o.seller_currency, COUNT(*), SUM(o.seller_total_minor) FROM orders o
            WHERE o.created_at >= @from AND o.created_at < @to AND {AfterSalesCounting.Condition("o")}{(sellerId is null ? "" : " AND o.seller_id = @seller")}{(channel is null ? "" : " AND o.channel = @channel")}
            GROUP BY o.channel, o.campaign, o.seller_currency
            """).With("from", database.ToDb(from)).With("to", database.ToDb(to)).WithSeller(sellerId);
        if (channel is not null)
        {
            command.With("channel", channel);
        }
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new ChannelSales(reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2),
                    Convert.ToInt64(reader.GetValue(3)), Convert.ToInt64(reader.GetValue(4))));
            }
        }
        // The margin of the same orders from their line facts: known for a group when each of its orders has facts and each line a cost.
        await using var margins = connection.Command($"""
            SELECT o.channel, o.campaign, f.currency, COUNT(DISTINCT f.order_id), SUM(CASE WHEN f.unit_cost_minor IS NULL THEN 1 ELSE 0 END),
                   SUM(f.paid_minor - f.commission_minor - COALESCE(f.units * f.unit_cost_minor, 0))
            FROM orders o JOIN order_line_facts f ON f.order_id = o.order_id
            WHERE o.created_at >= @from AND o.created_at < @to AND {AfterSalesCounting.Condition("o")}{(sellerId is null ? "" : " AND o.seller_id = @seller")}{(channel is null ? "" : " AND o.channel = @channel")}
            GROUP BY o.channel, o.campaign, f.currency
            """).With("from", database.ToDb(from)).With("to", database.ToDb(to)).WithSeller(sellerId);
        if (channel is not null)
        {
            margins.With("channel", channel);
        }
        await using var marginReader = await margins.ExecuteReaderAsync(cancellationToken);
        while (await marginReader.ReadAsync(cancellationToken))
        {
            string? groupChannel = marginReader.IsDBNull(0) ? null : marginReader.GetString(0), campaign = marginReader.IsDBNull(1) ? null : marginReader.GetString(1);
            var currency = marginReader.GetString(2);
            var index = rows.FindIndex(r => r.Channel == groupChannel && r.Campaign == campaign && r.Currency == currency);
            if (index >= 0 && Convert.ToInt64(marginReader.GetValue(3)) == rows[index].Orders && Convert.ToInt64(marginReader.GetValue(4)) == 0)
            {
                rows[index] = rows[index] with { MarginMinor = Convert.ToInt64(marginReader.GetValue(5)) };
            }
        }
        return rows;
    }

    public Task<IReadOnlyList<CategoryMarginStats>> CategoryMarginAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId,
        CancellationToken cancellationToken) => MarginAsync(from, to, sellerId, byCategory: true, cancellationToken);

    public Task<IReadOnlyList<CategoryMarginStats>> CategoryMarginTotalsAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId,
        CancellationToken cancellationToken) => MarginAsync(from, to, sellerId, byCategory: false, cancellationToken);

    private async Task<IReadOnlyList<CategoryMarginStats>> MarginAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId, bool byCategory,
        CancellationToken cancellationToken)
    {
        var rows = new List<CategoryMarginStats>();
        await using var connection = await database.OpenAsync(cancellationToken);
        // The facts of the window's lines (a seller's through its index, all sellers' through the block range index), each joined to
        // its order's row for whether the order still counts (a paid order cancelled later does not).
        await using var command = connection.Command($"""
            SELECT {(byCategory ? "f.category" : "NULL")}, f.currency, COUNT(DISTINCT f.order_id), SUM(f.units), SUM(f.paid_minor), SUM(f.commission_minor),
                   SUM(CASE WHEN f.unit_cost_minor IS NULL THEN 0 ELSE f.units END),
                   SUM(CASE WHEN f.unit_cost_minor IS NULL THEN 0 ELSE f.paid_minor END),
                   SUM(CASE WHEN f.unit_cost_minor IS NULL THEN 0 ELSE f.commission_minor END),
                   SUM(CASE WHEN f.unit_cost_minor IS NULL THEN 0 ELSE f.units * f.unit_cost_minor END)
            FROM order_line_facts f JOIN orders o ON o.order_id = f.order_id
            WHERE f.created_at >= @from AND f.created_at < @to AND {AfterSalesCounting.Condition("o")}{(sellerId is null ? "" : " AND f.seller_id = @seller")}
            GROUP BY {(byCategory ? "f.category, " : "")}f.currency
            """).With("from", database.ToDb(from)).With("to", database.ToDb(to)).WithSeller(sellerId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            long At(int ordinal) => Convert.ToInt64(reader.GetValue(ordinal));
            rows.Add(new CategoryMarginStats(reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetString(1), At(2), At(3), At(4), At(5), At(6), At(7),
                At(8), At(9)));
        }
        return rows;
    }
}
