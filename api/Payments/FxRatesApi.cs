using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Api.Payments;

public sealed record FxRatesRequest([Required] Dictionary<string, decimal>? UnitsPerUsd, DateTimeOffset? AsOf, string? Source);

public sealed record FxRatesResponse(IReadOnlyDictionary<string, decimal> UnitsPerUsd, DateTimeOffset AsOf, string Source);

/// <summary>Exchange rates (R-PAY-2): loaded by admins or a rate feed; every silo prices new orders with them within seconds.</summary>
public static class FxRatesApi
{
    public static IEndpointRouteBuilder MapFxRatesApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/fx-rates").WithTags("Payments");
        api.MapPut("/", Put).RequireAuthorization(Policies.Admins).ProducesProblems(403, 409);
        api.MapGet("/", Get).RequireAuthorization().ProducesProblems(404);
        return app;
    }

    public static async Task<Results<Ok<FxRatesResponse>, ValidationProblem, ProblemHttpResult>> Put(FxRatesRequest request, IGrainFactory grains, TradeClock clock, IFxRateTableCache cache)
    {
        var now = clock.GetUtcNow();
        var v = new Validation();
        var rates = request.UnitsPerUsd;
        if (rates is null || rates.Count is 0 or > 200)
        {
            v.Add("unitsPerUsd", "unitsPerUsd is required: 1 to 200 currencies, each with the units of it that buy one US dollar.");
        }
        foreach (var (currency, rate) in rates ?? [])
        {
            if (!Iso4217.IsKnown(currency)) v.Add($"unitsPerUsd.{currency}", $"'{currency}' is not a supported ISO 4217 currency.");
            else if (rate < FxRates.MinUnitsPerUsd || rate > FxRates.MaxUnitsPerUsd) v.Add($"unitsPerUsd.{currency}", $"The rate must be at least {FxRates.MinUnitsPerUsd} and at most {FxRates.MaxUnitsPerUsd}.");
            else if (currency == "USD" && rate != 1) v.Add("unitsPerUsd.USD", "USD is the base: its rate must be 1.");
        }
        if (request.AsOf is { } asOf && asOf > now.AddMinutes(5)) v.Add("asOf", "asOf must not be in the future.");
        if (request.Source is { Length: > 100 }) v.Add("source", "source must be at most 100 characters.");
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var table = new FxRateTable(new Dictionary<string, decimal>(rates!) { ["USD"] = 1m }, request.AsOf ?? now, request.Source ?? "api");
        var status = await grains.GetGrain<IFxRatesGrain>(FxRates.Key).Update(table);
        if (status == FxUpdateStatus.Applied)
        {
            // Read your writes: this silo prices with the table at once; the others within their refresh period.
            cache.Refresh(table);
        }
        return status == FxUpdateStatus.Applied
            ? TypedResults.Ok(new FxRatesResponse(table.UnitsPerUsd, table.AsOf, table.Source))
            : Problems.Conflict("A newer rate table is already loaded; these rates were not applied.");
    }

    public static async Task<Results<Ok<FxRatesResponse>, ProblemHttpResult>> Get(IGrainFactory grains) =>
        await grains.GetGrain<IFxRatesGrain>(FxRates.Key).Current() is { } table
            ? TypedResults.Ok(new FxRatesResponse(table.UnitsPerUsd, table.AsOf, table.Source))
            : Problems.NotFound("No rate table has been loaded; orders use the built-in defaults.");
}
