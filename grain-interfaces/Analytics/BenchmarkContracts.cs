using Orleans.Trade.Common;

namespace Orleans.Trade.Analytics;

/// <summary>
/// A competitor's price of the same goods as one of our SKUs (R-DAT-3: competitor price benchmarks, imported from a price feed
/// or a seller's own survey): who sells it, for how much (its own currency), its shipping if known, where it was seen and when.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CompetitorPrice(
    [property: Id(0)] string Competitor,
    [property: Id(1)] Money Price,
    [property: Id(2)] Money? Shipping,
    [property: Id(3)] string? Url,
    [property: Id(4)] DateTimeOffset ObservedAt,
    [property: Id(5)] string RecordedBy,
    [property: Id(6)] DateTimeOffset RecordedAt);

public enum BenchmarkWriteStatus
{
    /// <summary>Stored: the competitor's latest price.</summary>
    Recorded,
    /// <summary>The same observation was stored before (a retried import): nothing changed.</summary>
    Unchanged,
    /// <summary>The competitor's stored price was observed later than this one: kept, this one dropped.</summary>
    Older,
    /// <summary>No such SKU.</summary>
    UnknownSku,
}

/// <summary>A competitor's price as the benchmark compares it: also in the SKU's currency, and whether it is too old to count.</summary>
[GenerateSerializer, Immutable]
public sealed record CompetitorQuote(
    [property: Id(0)] string Competitor,
    [property: Id(1)] Money Price,
    [property: Id(2)] Money? PriceInSkuCurrency,
    [property: Id(3)] Money? Shipping,
    [property: Id(4)] string? Url,
    [property: Id(5)] DateTimeOffset ObservedAt,
    [property: Id(6)] bool Counted);

/// <summary>Where our price stands among the competitors' counted prices.</summary>
public enum PricePosition
{
    /// <summary>No competitor's price counts (none recorded, all too old, or none convertible).</summary>
    Unbenchmarked,
    /// <summary>At or below every counted competitor's price.</summary>
    Cheapest,
    /// <summary>At or below the median.</summary>
    BelowMedian,
    /// <summary>Above the median, below the dearest.</summary>
    AboveMedian,
    /// <summary>Above every counted competitor's price.</summary>
    Dearest,
}

/// <summary>
/// A SKU's price against its competitors' (R-DAT-3): the counted prices' lowest, median and highest in the SKU's currency, how
/// many undercut ours, by how much ours is above (positive) or below the median, and the position that makes.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PriceBenchmark(
    [property: Id(0)] string SkuId,
    [property: Id(1)] string SellerId,
    [property: Id(2)] Money OurPrice,
    [property: Id(3)] IReadOnlyList<CompetitorQuote> Competitors,
    [property: Id(4)] int Counted,
    [property: Id(5)] Money? Lowest,
    [property: Id(6)] Money? Median,
    [property: Id(7)] Money? Highest,
    [property: Id(8)] int Cheaper,
    [property: Id(9)] decimal? PercentFromMedian,
    [property: Id(10)] PricePosition Position,
    [property: Id(11)] DateTimeOffset? LatestObservation);

/// <summary>The pure rules of price benchmarks: what counts and how our price compares.</summary>
public static class PriceBenchmarks
{
    public const int MaxCompetitors = 50;
    public const int MaxCompetitorLength = 100;
    public const int MaxUrlLength = 500;

    /// <summary>
    /// The benchmark of our price against the competitors' (<paramref name="convert"/> gives a price in our currency, null without a
    /// rate): a price observed more than <paramref name="maxAge"/> before <paramref name="now"/>, or not convertible, is shown but not counted.
    /// </summary>
    public static PriceBenchmark Compare(string skuId, string sellerId, Money ourPrice, IReadOnlyCollection<CompetitorPrice> prices,
        DateTimeOffset now, TimeSpan maxAge, Func<Money, string, Money?> convert)
    {
        var quotes = prices.OrderBy(p => p.Competitor, StringComparer.Ordinal).Select(p =>
        {
            var converted = convert(p.Price, ourPrice.Currency);
            return new CompetitorQuote(p.Competitor, p.Price, converted, p.Shipping, p.Url, p.ObservedAt, converted is not null && now - p.ObservedAt <= maxAge);
        }).ToArray();
        var counted = quotes.Where(q => q.Counted).Select(q => q.PriceInSkuCurrency!.AmountMinor).Order().ToArray();
        DateTimeOffset? latest = prices.Count == 0 ? null : prices.Max(p => p.ObservedAt);
        if (counted.Length == 0)
        {
            return new PriceBenchmark(skuId, sellerId, ourPrice, quotes, 0, null, null, null, 0, null, PricePosition.Unbenchmarked, latest);
        }
        // The median of an even count is the mean of the middle two, rounded half away from zero to a minor unit.
        var median = counted.Length % 2 == 1
            ? counted[counted.Length / 2]
            : (long)Math.Round((counted[counted.Length / 2 - 1] + (decimal)counted[counted.Length / 2]) / 2, MidpointRounding.AwayFromZero);
        var ours = ourPrice.AmountMinor;
        var position = ours <= counted[0] ? PricePosition.Cheapest
            : ours <= median ? PricePosition.BelowMedian
            : ours <= counted[^1] ? PricePosition.AboveMedian
            : PricePosition.Dearest;
        var percent = median == 0 ? (decimal?)null : Math.Round((ours - median) * 100m / median, 1, MidpointRounding.AwayFromZero);
        return new PriceBenchmark(skuId, sellerId, ourPrice, quotes, counted.Length, new Money(counted[0], ourPrice.Currency),
            new Money(median, ourPrice.Currency), new Money(counted[^1], ourPrice.Currency), counted.Count(c => c < ours), percent, position, latest);
    }
}

/// <summary>Competitors' prices of one SKU (R-DAT-3). Key: the SKU id.</summary>
[Orleans.CodeGeneration.Version(1)]
public interface ISkuBenchmarkGrain : IGrainWithStringKey
{
    /// <summary>Keeps the competitor's latest observation (at most <see cref="PriceBenchmarks.MaxCompetitors"/> competitors: the stalest goes).</summary>
    Task<BenchmarkWriteStatus> Record(CompetitorPrice price);

    /// <summary>The SKU's benchmark now (its current price, today's rates); null when the SKU does not exist.</summary>
    [ReadOnly, AlwaysInterleave]
    Task<PriceBenchmark?> Get();
}

/// <summary>The SKUs of a seller that have competitors' prices (R-DAT-3), to list their benchmarks. Key: the seller id.</summary>
[Orleans.CodeGeneration.Version(1)]
public interface ISellerBenchmarksGrain : IGrainWithStringKey
{
    Task Add(string skuId);

    /// <summary>Up to <paramref name="limit"/> of the seller's benchmarked SKU ids after <paramref name="after"/>, in id order.</summary>
    [ReadOnly, AlwaysInterleave]
    Task<IReadOnlyList<string>> List(string? after, int limit);
}
