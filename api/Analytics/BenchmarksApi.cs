using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Analytics;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Api.Inventory;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Api.Analytics;

public sealed record CompetitorPriceRequest(
    [Required][property: Description("Our SKU the competitor's offer is of.")] string? SkuId,
    [Required][property: Description("Who offers it (a marketplace shop or a brand store; up to 100 characters): one price per competitor is kept, its latest.")] string? Competitor,
    [Required][property: Description("Its price of one unit, in its own currency.")] MoneyRequest? Price,
    [property: Description("Its shipping of one unit, if known.")] MoneyRequest? Shipping,
    [property: Description("Where it was seen: an absolute http(s) URL.")] string? Url,
    [Required][property: Description("When it was seen, with its offset; not in the future.")] DateTimeOffset? ObservedAt);

public sealed record PriceBenchmarkImportRequest(
    [Required][property: Description("1 to 1,000 competitors' prices, each answered on its own.")] IReadOnlyList<CompetitorPriceRequest?>? Observations);

/// <summary>What became of one imported price.</summary>
public enum PriceImportStatus
{
    /// <summary>Stored: the competitor's latest price of the SKU.</summary>
    Recorded,
    /// <summary>Stored before (a retried import): nothing changed.</summary>
    Unchanged,
    /// <summary>The competitor's stored price was seen later: kept, this one dropped.</summary>
    Older,
    /// <summary>No such SKU.</summary>
    NotFound,
    /// <summary>The SKU is another seller's, and this key acts for a seller.</summary>
    Forbidden,
    /// <summary>A member is missing or wrong (<c>field</c> names it).</summary>
    Invalid,
    /// <summary>Not known to be stored: send it again.</summary>
    Failed,
}

public sealed record PriceImportResult(int Index, string? SkuId, PriceImportStatus Status, string? Reason, string? Field);

public sealed record PriceBenchmarkImportResponse(int Recorded, int Unchanged, int NotRecorded, IReadOnlyList<PriceImportResult> Results);

public sealed record PriceBenchmarkListResponse(
    [property: Description("The seller's benchmarked SKUs in id order (those of the position asked for, when one is): a page may hold fewer than pageSize.")]
    IReadOnlyList<PriceBenchmark> Items,
    [property: Description("Pass as cursor for the next page; null on the last page.")] string? NextCursor);

/// <summary>
/// Competitor price benchmarks (R-DAT-3): competitors' prices of our SKUs imported in batches, and each SKU's price against them.
/// </summary>
public static class BenchmarksApi
{
    public const int MaxObservations = 1_000;
    public const int MaxPage = 100;
    private const int Parallelism = 16;

    /// <summary>How far ahead of the platform's clock an observation's time may be (clocks of price feeds drift).</summary>
    private static readonly TimeSpan FutureSkew = TimeSpan.FromMinutes(10);

    public static IEndpointRouteBuilder MapBenchmarksApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Analytics");
        api.MapPost("/price-benchmarks", Import).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        api.MapGet("/skus/{skuId}/price-benchmark", Get).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403, 404);
        api.MapGet("/sellers/{sellerId}/price-benchmarks", List).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        return app;
    }

    public static async Task<Results<Ok<PriceBenchmarkImportResponse>, ValidationProblem>> Import(
        PriceBenchmarkImportRequest request, ClaimsPrincipal user, IGrainFactory grains, TradeClock clock, CancellationToken cancellationToken)
    {
        var observations = request.Observations;
        if (observations is null || observations.Count is 0 or > MaxObservations)
        {
            return new Validation().Add("observations", $"observations holds 1 to {MaxObservations} prices.").Problem();
        }
        var caller = Caller.From(user);
        var now = clock.GetUtcNow();
        var results = new PriceImportResult[observations.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, observations.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (i, _) => results[i] = await ImportOne(i, observations[i], caller, grains, now));
        var recorded = results.Count(r => r.Status == PriceImportStatus.Recorded);
        var unchanged = results.Count(r => r.Status == PriceImportStatus.Unchanged);
        return TypedResults.Ok(new PriceBenchmarkImportResponse(recorded, unchanged, results.Length - recorded - unchanged, results));
    }

    private static async Task<PriceImportResult> ImportOne(int index, CompetitorPriceRequest? item, Caller caller, IGrainFactory grains, DateTimeOffset now)
    {
        if (item is null)
        {
            return new PriceImportResult(index, null, PriceImportStatus.Invalid, "The item must not be null.", "");
        }
        var v = new Validation();
        v.Identifier("skuId", item.SkuId);
        var competitor = v.RequiredText("competitor", item.Competitor, PriceBenchmarks.MaxCompetitorLength);
        var price = Amount(v, "price", item.Price, required: true, min: 1);
        var shipping = Amount(v, "shipping", item.Shipping, required: false, min: 0);
        if (item.Url is not null && (item.Url.Length > PriceBenchmarks.MaxUrlLength || !Uri.TryCreate(item.Url, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("https" or "http")))
        {
            v.Add("url", $"url must be an absolute http(s) URL of at most {PriceBenchmarks.MaxUrlLength} characters.");
        }
        if (item.ObservedAt is null)
        {
            v.Add("observedAt", "observedAt is required.");
        }
        else if (item.ObservedAt > now + FutureSkew)
        {
            v.Add("observedAt", $"observedAt ({item.ObservedAt:u}) is in the future; it is now {now:u}.");
        }
        if (v.FirstError is { } error)
        {
            return new PriceImportResult(index, item.SkuId, PriceImportStatus.Invalid, error.Rule, error.Field);
        }
        try
        {
            var catalog = await grains.GetGrain<ISkuGrain>(item.SkuId!).GetCatalog();
            if (catalog is null)
            {
                return new PriceImportResult(index, item.SkuId, PriceImportStatus.NotFound, $"SKU '{item.SkuId}' does not exist.", "skuId");
            }
            if (caller.ActingSellerId is { } acting && acting != catalog.SellerId)
            {
                return new PriceImportResult(index, item.SkuId, PriceImportStatus.Forbidden,
                    $"This key acts for seller '{acting}' and cannot benchmark SKU '{item.SkuId}' of another seller.", "skuId");
            }
            var status = await grains.GetGrain<ISkuBenchmarkGrain>(item.SkuId!).Record(new CompetitorPrice(competitor!.Trim(), price!, shipping, item.Url,
                item.ObservedAt!.Value.ToUniversalTime(), caller.Name, now));
            if (status is BenchmarkWriteStatus.Recorded or BenchmarkWriteStatus.Unchanged)
            {
                // The seller's list names the SKU once its first price is stored; a retry of an item whose answer was lost adds it then.
                await grains.GetGrain<ISellerBenchmarksGrain>(catalog.SellerId).Add(item.SkuId!);
            }
            return status switch
            {
                BenchmarkWriteStatus.Recorded => new PriceImportResult(index, item.SkuId, PriceImportStatus.Recorded, null, null),
                BenchmarkWriteStatus.Unchanged => new PriceImportResult(index, item.SkuId, PriceImportStatus.Unchanged, null, null),
                _ => new PriceImportResult(index, item.SkuId, PriceImportStatus.Older,
                    $"{competitor}'s price of SKU '{item.SkuId}' stored before was seen later than {item.ObservedAt:u}; it is kept.", "observedAt"),
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new PriceImportResult(index, item.SkuId, PriceImportStatus.Failed, "The price could not be confirmed as stored; send it again.", null);
        }
    }

    public static async Task<Results<Ok<PriceBenchmark>, ProblemHttpResult>> Get(string skuId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var benchmark = Ids.IsValid(skuId) ? await grains.GetGrain<ISkuBenchmarkGrain>(skuId).Get() : null;
        if (benchmark is null)
        {
            return Problems.NotFound($"SKU '{skuId}' does not exist.");
        }
        return Caller.From(user).RefusedFor(benchmark.SellerId, "read the price benchmarks of") is { } forbidden ? forbidden : TypedResults.Ok(benchmark);
    }

    public static async Task<Results<Ok<PriceBenchmarkListResponse>, ValidationProblem, ProblemHttpResult>> List(
        string sellerId, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken,
        [Description("Only SKUs in this position: unbenchmarked, cheapest, belowMedian, aboveMedian or dearest.")] string? position = null,
        [Description("SKUs per page, 1 to 100.")] int pageSize = 50,
        [Description("The nextCursor of the previous page.")] string? cursor = null)
    {
        if (Caller.From(user).RefusedFor(sellerId, "read the price benchmarks of") is { } forbidden)
        {
            return forbidden;
        }
        var v = new Validation();
        var only = v.OneOf<PricePosition>("position", position);
        v.Range("pageSize", pageSize, 1, MaxPage);
        if (cursor is not null) v.Identifier("cursor", cursor);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var ids = Ids.IsValid(sellerId) ? await grains.GetGrain<ISellerBenchmarksGrain>(sellerId).List(cursor, pageSize + 1) : [];
        var page = ids.Take(pageSize).ToArray();
        var benchmarks = new PriceBenchmark?[page.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, page.Length),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (i, _) => benchmarks[i] = await grains.GetGrain<ISkuBenchmarkGrain>(page[i]).Get());
        // A SKU that has since gone to another seller is not this seller's to see.
        var items = benchmarks.Where(b => b is not null && b.SellerId == sellerId && (only is null || b.Position == only)).Select(b => b!).ToArray();
        return TypedResults.Ok(new PriceBenchmarkListResponse(items, ids.Count > pageSize ? page[^1] : null));
    }

    private static Money? Amount(Validation v, string field, MoneyRequest? amount, bool required, long min)
    {
        if (amount is null)
        {
            if (required) v.Add(field, $"{field} is required.");
            return null;
        }
        if (amount.AmountMinor is not { } minor || minor < min || minor > 1_000_000_000_000)
        {
            v.Add($"{field}.amountMinor", $"{field}.amountMinor must be {min} to 1000000000000.");
        }
        v.Currency($"{field}.currency", amount.Currency);
        return v.IsValid ? new Money(amount.AmountMinor!.Value, amount.Currency!) : null;
    }
}
