using System.Globalization;
using Orleans.Trade.Orders;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Silo;

/// <summary>
/// Keeps this silo's rate cache current: loads <c>Fx:RatesFile</c> (CSV: <c>currency,unitsPerUsd</c>, the file's time as
/// <c>asOf</c>) at start-up, then reads the platform's table every <c>Fx:RefreshSeconds</c> (default 10).
/// </summary>
public sealed class FxRatesRefresher(IGrainFactory grains, CachedFxRates cache, IConfiguration configuration, ILogger<FxRatesRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(configuration.GetValue("Fx:RefreshSeconds", 10.0));
        var fileLoaded = configuration["Fx:RatesFile"] is null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var grain = grains.GetGrain<IFxRatesGrain>(FxRates.Key);
                if (!fileLoaded)
                {
                    var table = ReadFile(configuration["Fx:RatesFile"]!);
                    logger.LogInformation("Rates file {File} ({Count} currencies as of {AsOf}): {Status}", configuration["Fx:RatesFile"],
                        table.UnitsPerUsd.Count, table.AsOf, await grain.Update(table));
                    fileLoaded = true;
                }
                cache.Refresh(await grain.Current());
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Refreshing exchange rates failed; keeping the rates cached");
            }
            await Task.Delay(period, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    public static FxRateTable ReadFile(string path)
    {
        var rates = new Dictionary<string, decimal>(StringComparer.Ordinal) { ["USD"] = 1m };
        foreach (var (line, number) in File.ReadLines(path).Select((l, i) => (l.Trim(), i + 1)))
        {
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("currency", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var cells = line.Split(',');
            if (cells.Length != 2 || !Common.Iso4217.IsKnown(cells[0].Trim())
                || !decimal.TryParse(cells[1].Trim(), NumberStyles.Number, CultureInfo.InvariantCulture, out var rate) || rate < FxRates.MinUnitsPerUsd || rate > FxRates.MaxUnitsPerUsd)
            {
                throw new FormatException($"{path}:{number}: expected 'currency,unitsPerUsd' with an ISO 4217 code and a rate from {FxRates.MinUnitsPerUsd} to {FxRates.MaxUnitsPerUsd}.");
            }
            rates[cells[0].Trim()] = rate;
        }
        return new FxRateTable(rates, new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero), "file:" + Path.GetFileName(path));
    }
}
