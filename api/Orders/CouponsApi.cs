using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

public sealed record CouponRequest(
    [Required][property: Description("ISO 4217: the currency of the seller's goods it applies to; amounts are in its minor units.")] string? Currency,
    [property: Description("Percent off the seller's goods in the cart, 1 to 90 (rounded down to a minor unit). Give this or amountOffMinor.")] int? PercentOff,
    [property: Description("A fixed amount off the seller's goods in the cart (at most their value). Give this or percentOff (or neither with freeShipping).")] long? AmountOffMinor,
    [property: Description("With percentOff only: the most it takes off one order.")] long? MaxDiscountMinor,
    [property: Description("The least value of the seller's goods in the cart (list prices) it applies to; 0 when absent.")] long? MinSpendMinor,
    [property: Description("Valid from this time; from now when absent.")] DateTimeOffset? StartsAt,
    [property: Description("Valid until this time, excluded; for ever when absent.")] DateTimeOffset? EndsAt,
    [Required][property: Description("The orders that may use it in all, 1 to 10,000 (a cancelled order's use is given back).")] int? MaxRedemptions,
    [property: Description("The orders one buyer may use it for, 1 to 100; 1 when absent.")] int? MaxPerBuyer,
    [property: Description("false disables it (checkouts naming it are refused); true when absent.")] bool? Enabled,
    [property: Description("Only these SKUs of the seller (at most 200; each one the seller lists, else 422): with categories, a line of either counts. The minimum spend and the discount then count those lines alone, and only they share the discount. Absent or empty, with no categories: all of the seller's goods.")] IReadOnlyList<string>? SkuIds = null,
    [property: Description("Only goods of these catalog categories (at most 20, compared without case), as skuIds.")] IReadOnlyList<string>? Categories = null,
    [property: Description("true waives the order's shipping (the seller funds it): alone, or beside percentOff or amountOffMinor. false when absent. Alone, it is refused (422, not used) on goods that ship free anyway.")] bool? FreeShipping = null);

/// <summary>A seller's coupon: its terms, and how many orders use it now (placed or being placed; cancelled ones gave theirs back).</summary>
public sealed record CouponResponse(
    string SellerId,
    [property: Description("In upper case: codes are compared without case.")] string Code,
    string Currency,
    int? PercentOff,
    long? AmountOffMinor,
    long? MaxDiscountMinor,
    long MinSpendMinor,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    int MaxRedemptions,
    int MaxPerBuyer,
    bool Enabled,
    [property: Description("The SKUs it is limited to, in id order; empty when not limited by SKU.")] IReadOnlyList<string> SkuIds,
    [property: Description("The categories it is limited to; empty when not limited by category. Both empty: all of the seller's goods.")] IReadOnlyList<string> Categories,
    [property: Description("It waives the order's shipping.")] bool FreeShipping,
    [property: Description("Orders that use it now.")] int Redeemed,
    [property: Description("Uses left before maxRedemptions (0 when it is lowered below redeemed).")] int Remaining,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static CouponResponse From(CouponView c)
    {
        var t = c.Terms;
        return new CouponResponse(c.SellerId, t.Code, t.Currency, t.PercentOff, t.AmountOffMinor, t.MaxDiscountMinor, t.MinSpendMinor, t.StartsAt,
            t.EndsAt, t.MaxRedemptions, t.MaxPerBuyer, t.Enabled, t.SkuIds ?? [], t.Categories ?? [], t.FreeShipping, c.Redeemed, Math.Max(0, t.MaxRedemptions - c.Redeemed), c.Version, c.CreatedAt, c.UpdatedAt);
    }
}

/// <summary>Sellers' coupons, applied at checkout to their own goods and funded by them (R-SET-3 refunds what was paid).</summary>
public static class CouponsApi
{
    private const string Doing = "use the coupons of";

    public static IEndpointRouteBuilder MapCouponsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Orders");
        api.MapPut("/sellers/{sellerId}/coupons/{code}", Put).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 422);
        api.MapGet("/sellers/{sellerId}/coupons/{code}", Get).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 404);
        api.MapGet("/sellers/{sellerId}/coupons", List).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403);
        return app;
    }

    public static async Task<Results<Created<CouponResponse>, Ok<CouponResponse>, ValidationProblem, ProblemHttpResult>> Put(
        string sellerId, string code, CouponRequest request, ClaimsPrincipal user, IGrainFactory grains, Analytics.IStorefrontEvents skus,
        CancellationToken cancellationToken)
    {
        var v = new Validation();
        v.Identifier("sellerId", sellerId);
        if (!CouponCodes.IsValid(code))
        {
            v.Add("code", $"code must be 1 to {CouponCodes.MaxLength} letters, digits or dashes.");
        }
        v.Currency("currency", request.Currency);
        if (request.MaxRedemptions is null) v.Add("maxRedemptions", "maxRedemptions is required: the orders that may use the coupon in all.");
        if (request.SkuIds?.Any(id => !Ids.IsValid(id)) == true)
        {
            v.Add("skuIds", $"skuIds holds SKU ids (1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit); '{request.SkuIds.First(id => !Ids.IsValid(id))}' is not one.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var terms = new CouponTerms(CouponCodes.Normalize(code), request.Currency!, request.PercentOff, request.AmountOffMinor, request.MaxDiscountMinor,
            request.MinSpendMinor ?? 0, request.StartsAt?.ToUniversalTime(), request.EndsAt?.ToUniversalTime(), request.MaxRedemptions!.Value,
            request.MaxPerBuyer ?? 1, request.Enabled ?? true, request.SkuIds, request.Categories, request.FreeShipping ?? false);
        foreach (var (field, rule) in CouponRules.Check(terms))
        {
            v.Add(field, rule);
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (Caller.From(user).RefusedFor(sellerId, Doing) is { } forbidden)
        {
            return forbidden;
        }
        if (terms.SkuIds is { Count: > 0 } scoped)
        {
            // A coupon of goods the seller does not sell would never apply: a typo is said now, not by every buyer's refused checkout.
            var sellers = await skus.SellersOfAsync(scoped, cancellationToken);
            var foreign = scoped.Where(id => sellers.GetValueOrDefault(id) != sellerId).ToArray();
            if (foreign.Length > 0)
            {
                return Problems.Unprocessable($"skuIds names {foreign.Length} SKU{(foreign.Length == 1 ? "" : "s")} that seller '{sellerId}' does not sell " +
                    $"(no such SKU, none listed yet, or another seller's): {string.Join(", ", foreign.Take(10).Select(id => $"'{id}'"))}" +
                    $"{(foreign.Length > 10 ? ", …" : "")}. Nothing was changed.");
            }
        }
        var result = await grains.GetGrain<ISellerCouponsGrain>(sellerId).Put(terms);
        return result.Status switch
        {
            CouponWriteStatus.Created => TypedResults.Created($"/api/v1/sellers/{sellerId}/coupons/{terms.Code}", CouponResponse.From(result.Coupon!)),
            CouponWriteStatus.Updated or CouponWriteStatus.Unchanged => TypedResults.Ok(CouponResponse.From(result.Coupon!)),
            _ => Problems.Unprocessable($"Seller '{sellerId}' holds {CouponCodes.MaxCouponsPerSeller} coupons, as many as a seller may; change or disable one of them instead."),
        };
    }

    public static async Task<Results<Ok<CouponResponse>, ProblemHttpResult>> Get(string sellerId, string code, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Caller.From(user).RefusedFor(sellerId, Doing) is { } forbidden)
        {
            return forbidden;
        }
        var coupon = Ids.IsValid(sellerId) && CouponCodes.IsValid(code)
            ? await grains.GetGrain<ISellerCouponsGrain>(sellerId).Get(CouponCodes.Normalize(code))
            : null;
        return coupon is null ? Problems.NotFound($"Seller '{sellerId}' has no coupon '{code}'.") : TypedResults.Ok(CouponResponse.From(coupon));
    }

    public static async Task<Results<Ok<IReadOnlyList<CouponResponse>>, ProblemHttpResult>> List(string sellerId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Caller.From(user).RefusedFor(sellerId, Doing) is { } forbidden)
        {
            return forbidden;
        }
        var coupons = Ids.IsValid(sellerId) ? await grains.GetGrain<ISellerCouponsGrain>(sellerId).List() : [];
        return TypedResults.Ok<IReadOnlyList<CouponResponse>>(coupons.Select(CouponResponse.From).ToArray());
    }
}
