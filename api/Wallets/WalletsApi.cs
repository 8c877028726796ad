using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Api.Wallets;

public sealed record SellerLedgerResponse(string SellerId, IReadOnlyList<LedgerAccountView> Accounts);

/// <summary>Seller balances from the double-entry ledger: escrows, pending, available, and the platform's share.</summary>
public static class WalletsApi
{
    public static IEndpointRouteBuilder MapWalletsApiV1(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").WithTags("Wallets").MapGet("/sellers/{sellerId}/ledger", GetLedger).RequireAuthorization();
        return app;
    }

    public static async Task<Results<Ok<SellerLedgerResponse>, ProblemHttpResult>> GetLedger(string sellerId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = Caller.From(user);
        if (!(caller.Role is Roles.Admin or Roles.Analyst || (caller.Role is Roles.Seller or Roles.Erp && caller.Subject == sellerId)))
        {
            return Problems.Forbidden("This key may read only its own seller's ledger.");
        }
        if (!Ids.IsValid(sellerId))
        {
            return Problems.NotFound($"Seller '{sellerId}' has no ledger.");
        }
        return TypedResults.Ok(new SellerLedgerResponse(sellerId, await grains.GetGrain<ISellerLedgerGrain>(sellerId).Balances()));
    }
}
