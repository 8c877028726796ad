using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Logistics;

namespace Orleans.Trade.Api.Logistics;

public sealed record WeightTierRequest(
    [Required][property: Description("Parcels up to this weight, in grams, ship for feeMinor; tiers ascend.")] int? UpToGrams,
    [Required][property: Description("The fee in minor units of the template's currency (0 for free).")] long? FeeMinor);

public sealed record ShippingZoneRequest(
    [Required][property: Description("ISO 3166-1 alpha-2 codes, or \"*\" for every country no other zone names; a country is in one zone.")]
    IReadOnlyList<string?>? Countries,
    [Required][property: Description("Weight tiers, ascending; a parcel heavier than the last does not ship to this zone.")]
    IReadOnlyList<WeightTierRequest?>? Tiers,
    [property: Description("Free shipping when the parcel's goods are worth at least this, in minor units of the template's currency.")] long? FreeFromMinor,
    [property: Description("A free-shipping promotion: from this time (with freeUntil).")] DateTimeOffset? FreeFrom,
    [property: Description("A free-shipping promotion: until this time, excluded.")] DateTimeOffset? FreeUntil);

public sealed record ShippingTemplateRequest(
    [Required][property: Description("A name for the seller (up to 200 characters).")] string? Name,
    [Required][property: Description("ISO 4217: the currency of the SKUs that use it; a template keeps its currency.")] string? Currency,
    [Required][property: Description("Where it ships and for how much: 1 to 50 zones.")] IReadOnlyList<ShippingZoneRequest?>? Zones);

/// <summary>A shipping fee quote: what a checkout of the units to the country would add for shipping now.</summary>
public sealed record ShippingQuoteResponse(string SkuId, string Country, long Quantity, Money Fee, bool Free, string? ShippingTemplateId);

/// <summary>Shipping templates (R-LOG-1): per destination zone, weight tiers, a free-shipping threshold and promotions.</summary>
public static class ShippingApi
{
    /// <summary>Units a quote is asked for at most: as many as a checkout line takes.</summary>
    private const long MaxQuoteQuantity = Orders.OrdersApi.MaxQuantityPerLine;

    public static IEndpointRouteBuilder MapShippingApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Logistics");
        api.MapPut("/sellers/{sellerId}/shipping-templates/{templateId}", Put).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 409, 422);
        api.MapGet("/sellers/{sellerId}/shipping-templates/{templateId}", Get).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 404);
        api.MapGet("/sellers/{sellerId}/shipping-templates", List).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403);
        api.MapGet("/skus/{skuId}/shipping-quote", Quote).RequireAuthorization().ProducesProblems(404, 422);
        return app;
    }

    public static async Task<Results<Created<ShippingTemplate>, Ok<ShippingTemplate>, ValidationProblem, ProblemHttpResult>> Put(
        string sellerId, string templateId, ShippingTemplateRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        v.Identifier("sellerId", sellerId);
        v.Identifier("templateId", templateId);
        var name = v.RequiredText("name", request.Name, ShippingRules.MaxNameLength);
        v.Currency("currency", request.Currency);
        var zones = Zones(v, request.Zones);
        if (zones is not null)
        {
            foreach (var (field, rule) in ShippingRules.Check(zones))
            {
                v.Add(field, rule);
            }
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (Caller.From(user).RefusedFor(sellerId, "use the shipping templates of") is { } forbidden)
        {
            return forbidden;
        }
        var result = await grains.GetGrain<ISellerShippingGrain>(sellerId).Put(templateId, name!, request.Currency!, zones!);
        return result.Status switch
        {
            ShippingTemplateWriteStatus.Created => TypedResults.Created($"/api/v1/sellers/{sellerId}/shipping-templates/{templateId}", result.Template),
            ShippingTemplateWriteStatus.Updated or ShippingTemplateWriteStatus.Unchanged => TypedResults.Ok(result.Template),
            ShippingTemplateWriteStatus.CurrencyChanged => Problems.Conflict(
                $"Shipping template '{templateId}' is priced in {result.Template!.Currency}, as the SKUs that use it are; a template keeps its currency: create another for {request.Currency}."),
            _ => Problems.Unprocessable($"Seller '{sellerId}' holds {ShippingRules.MaxTemplatesPerSeller} shipping templates, as many as a seller may; change one of them instead."),
        };
    }

    public static async Task<Results<Ok<ShippingTemplate>, ProblemHttpResult>> Get(string sellerId, string templateId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Caller.From(user).RefusedFor(sellerId, "use the shipping templates of") is { } forbidden)
        {
            return forbidden;
        }
        var template = Ids.IsValid(sellerId) && Ids.IsValid(templateId) ? await grains.GetGrain<ISellerShippingGrain>(sellerId).Get(templateId) : null;
        return template is null ? Problems.NotFound($"Seller '{sellerId}' has no shipping template '{templateId}'.") : TypedResults.Ok(template);
    }

    public static async Task<Results<Ok<IReadOnlyList<ShippingTemplate>>, ProblemHttpResult>> List(string sellerId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Caller.From(user).RefusedFor(sellerId, "use the shipping templates of") is { } forbidden)
        {
            return forbidden;
        }
        return TypedResults.Ok(Ids.IsValid(sellerId) ? await grains.GetGrain<ISellerShippingGrain>(sellerId).List() : []);
    }

    public static async Task<Results<Ok<ShippingQuoteResponse>, ValidationProblem, ProblemHttpResult>> Quote(
        string skuId, [Description("The ship-to country, ISO 3166-1 alpha-2.")] string? country,
        [Description("Units (default 1).")] long? quantity, IGrainFactory grains, TradeClock clock)
    {
        var v = new Validation();
        v.Country("country", country);
        v.Range("quantity", quantity, 1, MaxQuoteQuantity);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var units = quantity ?? 1;
        var catalog = Ids.IsValid(skuId) ? await grains.GetGrain<ISkuGrain>(skuId).GetCatalog() : null;
        if (catalog is null)
        {
            return Problems.NotFound($"SKU '{skuId}' does not exist.");
        }
        if (catalog.ShippingTemplateId is not { } templateId)
        {
            return TypedResults.Ok(new ShippingQuoteResponse(skuId, country!, units, new Money(0, catalog.Price.Currency), true, null));
        }
        var template = await grains.GetGrain<ISellerShippingGrain>(catalog.SellerId).Get(templateId);
        if (template is null)
        {
            return Problems.Unprocessable($"SKU '{skuId}' names shipping template '{templateId}', which its seller does not have.");
        }
        var quote = ShippingRules.Quote(template, country!, checked(catalog.WeightGrams * units), checked(catalog.Price.AmountMinor * units), clock.GetUtcNow());
        return quote.Refusal is { } refusal
            ? Problems.Unprocessable($"SKU '{skuId}' cannot be shipped: {units} unit(s) {refusal}.")
            : TypedResults.Ok(new ShippingQuoteResponse(skuId, country!, units, quote.Fee!, quote.Free, templateId));
    }

    private static List<ShippingZone>? Zones(Validation v, IReadOnlyList<ShippingZoneRequest?>? zones)
    {
        if (zones is null)
        {
            v.Add("zones", "zones is required.");
            return null;
        }
        var result = new List<ShippingZone>(zones.Count);
        for (var z = 0; z < zones.Count; z++)
        {
            var at = $"zones[{z}]";
            if (zones[z] is not { } zone)
            {
                v.Add(at, $"{at} must not be null.");
                continue;
            }
            if (zone.Countries is null) v.Add($"{at}.countries", $"{at}.countries is required.");
            if (zone.Tiers is null) v.Add($"{at}.tiers", $"{at}.tiers is required.");
            var tiers = new List<WeightTier>();
            for (var t = 0; t < (zone.Tiers?.Count ?? 0); t++)
            {
                if (zone.Tiers![t] is not { UpToGrams: { } upTo, FeeMinor: { } fee })
                {
                    v.Add($"{at}.tiers[{t}]", $"{at}.tiers[{t}] needs upToGrams and feeMinor.");
                    continue;
                }
                tiers.Add(new WeightTier(upTo, fee));
            }
            var countries = (zone.Countries ?? []).Select(c => c?.Trim() ?? "").ToArray();
            result.Add(new ShippingZone(countries, tiers, zone.FreeFromMinor, zone.FreeFrom?.ToUniversalTime(), zone.FreeUntil?.ToUniversalTime()));
        }
        return result;
    }
}
