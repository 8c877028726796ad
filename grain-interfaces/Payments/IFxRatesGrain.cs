namespace Orleans.Trade.Payments;

/// <summary>A set of exchange rates as units of each currency per US dollar, valid from <see cref="AsOf"/> (R-PAY-2).</summary>
[GenerateSerializer, Immutable]
public sealed record FxRateTable(
    [property: Id(0)] IReadOnlyDictionary<string, decimal> UnitsPerUsd,
    [property: Id(1)] DateTimeOffset AsOf,
    [property: Id(2)] string Source);

public enum FxUpdateStatus { Applied, Stale }

/// <summary>
/// A silo's copy of the rate table, which other silos refresh every <c>Fx:RefreshSeconds</c>. The API hands it a table it has
/// just stored, so the silo that answered the update prices with it from the next request on.
/// </summary>
public interface IFxRateTableCache
{
    /// <summary>Takes <paramref name="table"/> unless the copy holds a newer one.</summary>
    void Refresh(FxRateTable? table);
}

/// <summary>The current rate table of the platform. Key: <see cref="FxRates.Key"/>. Silos cache it and refresh it often.</summary>
public interface IFxRatesGrain : IGrainWithStringKey
{
    /// <summary>Replaces the table unless the stored one is newer (a late file never overwrites a fresher API update).</summary>
    Task<FxUpdateStatus> Update(FxRateTable table);

    [ReadOnly, AlwaysInterleave]
    Task<FxRateTable?> Current();
}

public static class FxRates
{
    public const string Key = "current";
    public const decimal MaxUnitsPerUsd = 10_000_000m;

    /// <summary>
    /// The fewest units of a currency a dollar may buy: no currency is worth 100 dollars (the dearest, KWD, about 3.3). A smaller
    /// rate is a feed's slip, and would price goods at nothing in that currency, billions in others, and every EU consignment
    /// under the IOSS threshold.
    /// </summary>
    public const decimal MinUnitsPerUsd = 0.01m;
}
