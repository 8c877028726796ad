using System.Data.Common;
using System.Globalization;
using Orleans.Trade.Api.Analytics;

namespace Orleans.Trade.Silo.Storage;

/// <summary>
/// Daily stock snapshots (migration 0032): taken from the SKU ledgers' stored state in one statement, and the turnover of a window
/// read from them. The SKU ledger's state is JSON with the grain's member names (<c>Catalog.SellerId</c>, <c>Warehouses.*.OnHand</c>,
/// <c>Reserved</c>, <c>Sold</c>).
/// </summary>
public sealed class SqlStockSnapshotStore(TradeDatabase database) : IStockSnapshots
{
    private bool Postgres => database.Provider == StorageProvider.Postgres;

    /// <summary>A day as each database keeps it: <c>date</c> on PostgreSQL, 'yyyy-MM-dd' text on SQLite (which orders alike).</summary>
    private object Day(DateOnly day) => Postgres ? day : day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private DateOnly ReadDay(DbDataReader reader, int ordinal) => Postgres
        ? reader.GetFieldValue<DateOnly>(ordinal)
        : DateOnly.ParseExact(reader.GetString(ordinal), "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private const string TakePostgres = """
        INSERT INTO stock_snapshots (day, sku_id, seller_id, on_hand, reserved, sold)
        SELECT @day, l.sku_id, l.state #>> '{Catalog,SellerId}', SUM((w.value ->> 'OnHand')::bigint), SUM((w.value ->> 'Reserved')::bigint),
               SUM(COALESCE((w.value ->> 'Sold')::bigint, 0))
        FROM sku_ledger l CROSS JOIN LATERAL jsonb_each(l.state -> 'Warehouses') w
        WHERE l.state #>> '{Catalog,SellerId}' IS NOT NULL
        GROUP BY l.sku_id, l.state #>> '{Catalog,SellerId}'
        """;

    private const string TakeSqlite = """
        INSERT INTO stock_snapshots (day, sku_id, seller_id, on_hand, reserved, sold)
        SELECT @day, l.sku_id, json_extract(l.state, '$.Catalog.SellerId'), SUM(json_extract(w.value, '$.OnHand')),
               SUM(json_extract(w.value, '$.Reserved')), SUM(COALESCE(json_extract(w.value, '$.Sold'), 0))
        FROM sku_ledger l, json_each(l.state, '$.Warehouses') w
        WHERE json_extract(l.state, '$.Catalog.SellerId') IS NOT NULL
        GROUP BY l.sku_id
        """;

    public async Task<int?> TakeAsync(DateOnly day, DateTimeOffset at, DateOnly keepFrom, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // The claim and the rows in one transaction: a day is taken once and whole, whichever silo gets there first (another
        // waits on the claim's key until this commits, then finds it taken).
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = await connection.Command("INSERT INTO stock_snapshot_days (day, taken_at) VALUES (@day, @at) ON CONFLICT (day) DO NOTHING", transaction)
            .With("day", Day(day)).With("at", database.ToDb(at)).ExecuteNonQueryAsync(cancellationToken);
        int? taken = claimed == 1
            ? await connection.Command(Postgres ? TakePostgres : TakeSqlite, transaction).With("day", Day(day)).ExecuteNonQueryAsync(cancellationToken)
            : null;
        await transaction.CommitAsync(cancellationToken);
        if (taken is not null)
        {
            await connection.Command("DELETE FROM stock_snapshots WHERE day < @keep").With("keep", Day(keepFrom)).ExecuteNonQueryAsync(cancellationToken);
            await connection.Command("DELETE FROM stock_snapshot_days WHERE day < @keep").With("keep", Day(keepFrom)).ExecuteNonQueryAsync(cancellationToken);
        }
        return taken;
    }

    public async Task<TurnoverPage> TurnoverAsync(TurnoverQuery query, CancellationToken cancellationToken)
    {
        var filter = (query.SellerId is null ? "" : " AND seller_id = @seller") + (query.SkuId is null ? "" : " AND sku_id = @sku");
        // Per SKU: its first and last snapshot of the window and the sum of the days' on hand between; sold is cumulative, so the
        // window's sales are the last's less the first's.
        var skus = $"""
            WITH w AS (
                SELECT day, sku_id, seller_id, on_hand, reserved, sold FROM stock_snapshots WHERE day >= @from AND day <= @to{filter}
            ), b AS (
                SELECT sku_id, MIN(day) AS first_day, MAX(day) AS last_day, COUNT(*) AS snapshots, SUM(on_hand) AS sum_on_hand FROM w GROUP BY sku_id
            ), t AS (
                SELECT b.sku_id, l.seller_id, b.first_day, b.last_day, b.snapshots, b.sum_on_hand, f.on_hand AS on_hand_start,
                       l.on_hand AS on_hand_end, l.reserved AS reserved_end, CASE WHEN l.sold > f.sold THEN l.sold - f.sold ELSE 0 END AS units_sold
                FROM b JOIN w f ON f.sku_id = b.sku_id AND f.day = b.first_day JOIN w l ON l.sku_id = b.sku_id AND l.day = b.last_day
            )
            """;
        // The page carries the window's totals as window aggregates: one read of the snapshots, not one for the page and one for them.
        const string Totals = "COUNT(*) OVER (), SUM(CAST(sum_on_hand AS double precision) / snapshots) OVER (), SUM(units_sold) OVER ()";
        var page = skus + $"""
            SELECT sku_id, seller_id, first_day, last_day, snapshots, sum_on_hand, on_hand_start, on_hand_end, reserved_end, units_sold, {Totals}
            FROM t ORDER BY CASE WHEN sum_on_hand > 0 THEN 0 ELSE 1 END,
                CASE WHEN sum_on_hand > 0 THEN CAST(units_sold AS double precision) * snapshots / sum_on_hand END {(query.Fastest ? "DESC" : "ASC")},
                sku_id
            LIMIT @limit OFFSET @offset
            """;
        // A page past the last SKU holds no row to carry them: then they are read on their own.
        var totals = skus + $"SELECT {Totals} FROM t LIMIT 1";
        if (!Postgres)
        {
            page = page.Replace("double precision", "REAL", StringComparison.Ordinal);
            totals = totals.Replace("double precision", "REAL", StringComparison.Ordinal);
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        DbCommand Bind(string sql)
        {
            var command = connection.Command(sql).With("from", Day(query.From)).With("to", Day(query.To));
            if (query.SellerId is not null)
            {
                command.With("seller", query.SellerId);
            }
            if (query.SkuId is not null)
            {
                command.With("sku", query.SkuId);
            }
            return command;
        }
        static (long Skus, double OnHand, long Sold) ReadTotals(DbDataReader reader, int at) => (
            Convert.ToInt64(reader.GetValue(at), CultureInfo.InvariantCulture),
            reader.IsDBNull(at + 1) ? 0 : Convert.ToDouble(reader.GetValue(at + 1), CultureInfo.InvariantCulture),
            reader.IsDBNull(at + 2) ? 0 : Convert.ToInt64(reader.GetValue(at + 2), CultureInfo.InvariantCulture));
        var rows = new List<SkuTurnoverStats>();
        (long Skus, double OnHand, long Sold) sums = (0, 0, 0);
        await using (var command = Bind(page).With("limit", query.Limit).With("offset", query.Offset))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new SkuTurnoverStats(reader.GetString(0), reader.GetString(1), ReadDay(reader, 2), ReadDay(reader, 3),
                    Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(5), CultureInfo.InvariantCulture),
                    Convert.ToInt64(reader.GetValue(6), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(7), CultureInfo.InvariantCulture),
                    Convert.ToInt64(reader.GetValue(8), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(9), CultureInfo.InvariantCulture)));
                sums = ReadTotals(reader, 10);
            }
        }
        if (rows.Count == 0 && query.Offset > 0)
        {
            await using var command = Bind(totals);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                sums = ReadTotals(reader, 0);
            }
        }
        return new TurnoverPage(rows, sums.Skus, sums.OnHand, sums.Sold);
    }
}
