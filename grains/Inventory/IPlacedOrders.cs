namespace Orleans.Trade.Inventory;

/// <summary>
/// Which orders are placed (durably live), from the order projection, which commits in the same transaction as an order's
/// live state. A SKU asks it in bulk to settle its tentative holds without calling every order grain.
/// </summary>
public interface IPlacedOrders
{
    Task<IReadOnlySet<string>> WhichArePlacedAsync(IReadOnlyCollection<string> orderIds, CancellationToken cancellationToken);
}

/// <summary>Stock settings (configuration section <c>Inventory</c>).</summary>
public sealed class InventoryOptions
{
    /// <summary>How often a SKU with tentative holds settles them: placed orders keep theirs, expired ones are asked.</summary>
    public TimeSpan HoldCheckPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often a SKU whose alerts the alert table refused is woken to record them: the retry timer dies with its activation (a
    /// restart, a rolling update), and a sold-out SKU may not be asked for again.
    /// </summary>
    public TimeSpan AlertReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);
}
