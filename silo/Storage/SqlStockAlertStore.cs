using System.Text;
using Orleans.Trade.Api.Inventory;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Silo.Storage;

/// <summary>The stock alert projection: SKU grains record into it, the API lists from it.</summary>
public sealed class SqlStockAlertStore(TradeDatabase database) : IStockAlertSink, IStockAlertQueries
{
    public async Task RecordAsync(IReadOnlyList<StockAlert> alerts, CancellationToken cancellationToken)
    {
        if (alerts.Count == 0)
        {
            return;
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var a in alerts)
        {
            await connection.Command(
                    "INSERT INTO stock_alerts (alert_id, sku_id, seller_id, kind, available, threshold, raised_at) " +
                    "VALUES (@id, @sku, @seller, @kind, @available, @threshold, @raised) ON CONFLICT (alert_id) DO NOTHING",
                    transaction)
                .With("id", a.AlertId).With("sku", a.SkuId).With("seller", a.SellerId).With("kind", a.Kind.ToString())
                .With("available", a.Available).With("threshold", a.Threshold).With("raised", database.ToDb(a.RaisedAt))
                .ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<StockAlert>> ListAsync(StockAlertQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var sql = new StringBuilder("SELECT alert_id, sku_id, seller_id, kind, available, threshold, raised_at FROM stock_alerts WHERE 1 = 1");
        await using var command = connection.Command("");
        if (query.SellerId is not null)
        {
            sql.Append(" AND seller_id = @seller");
            command.With("seller", query.SellerId);
        }
        if (query.SkuId is not null)
        {
            sql.Append(" AND sku_id = @sku");
            command.With("sku", query.SkuId);
        }
        if (query.Kind is { } kind)
        {
            sql.Append(" AND kind = @kind");
            command.With("kind", kind.ToString());
        }
        if (query.BeforeAlertId is not null)
        {
            sql.Append(" AND alert_id < @before");
            command.With("before", query.BeforeAlertId);
        }
        sql.Append(" ORDER BY alert_id DESC LIMIT @limit");
        command.With("limit", query.Limit);
        command.CommandText = sql.ToString();

        var alerts = new List<StockAlert>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            alerts.Add(new StockAlert(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), Enum.Parse<StockAlertKind>(reader.GetString(3)),
                reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetInt32(5), TradeDatabase.FromDb(reader.GetValue(6))));
        }
        return alerts;
    }
}
