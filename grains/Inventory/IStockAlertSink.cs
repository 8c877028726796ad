namespace Orleans.Trade.Inventory;

/// <summary>Where raised stock alerts are projected for listing (the silo writes them to SQL). Must be idempotent by alert id.</summary>
public interface IStockAlertSink
{
    Task RecordAsync(IReadOnlyList<StockAlert> alerts, CancellationToken cancellationToken);
}
