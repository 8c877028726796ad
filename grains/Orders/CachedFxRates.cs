using Orleans.Trade.Payments;

namespace Orleans.Trade.Orders;

/// <summary>
/// The rates orders price with: the platform's rate table (loaded by API or file into <see cref="IFxRatesGrain"/>), cached
/// per silo and refreshed by <see cref="Refresh"/>; until a table is loaded, the configured defaults.
/// </summary>
public sealed class CachedFxRates(ConfiguredFxRates defaults) : IFxRates, IFxRateTableCache
{
    private volatile FxRateTable? _table;

    public FxRateTable? Table => _table;

    public bool FromRateTable => _table is not null;

    public void Refresh(FxRateTable? table)
    {
        if (table is not null && (_table is null || table.AsOf >= _table.AsOf))
        {
            _table = table;
        }
    }

    public bool TryGetRate(string from, string to, out decimal rate, out DateTimeOffset asOf) =>
        _table is { } table
            ? new ConfiguredFxRates(table.UnitsPerUsd, table.AsOf).TryGetRate(from, to, out rate, out asOf)
            : defaults.TryGetRate(from, to, out rate, out asOf);
}
