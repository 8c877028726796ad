using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Api.Payments;

public sealed record CardRequest(
    [Description("Required unless the API key is a buyer's: then it is that buyer.")] string? BuyerId,
    [Required] string? Number,
    [Required] int? ExpiryMonth,
    [Required] int? ExpiryYear,
    string? HolderName);

/// <summary>A stored card: a token and what PCI DSS allows to be kept (brand, BIN, last four, expiry); never the number.</summary>
public sealed record CardToken(
    string Token,
    string BuyerId,
    CardBrand Brand,
    string Bin,
    string Last4,
    string? BinCountry,
    int ExpiryMonth,
    int ExpiryYear,
    string Fingerprint,
    DateTimeOffset CreatedAt);

public sealed record CardTokenResponse(string Token, string BuyerId, CardBrand Brand, string Last4, string? BinCountry, int ExpiryMonth, int ExpiryYear, DateTimeOffset CreatedAt)
{
    public static CardTokenResponse From(CardToken t) => new(t.Token, t.BuyerId, t.Brand, t.Last4, t.BinCountry, t.ExpiryMonth, t.ExpiryYear, t.CreatedAt);
}

/// <summary>Durable card tokens (implemented by the silo over the database).</summary>
public interface ICardTokenStore
{
    Task InsertAsync(CardToken token, CancellationToken cancellationToken);
    Task<CardToken?> FindAsync(string token, CancellationToken cancellationToken);
}

/// <summary>The keyed hash that recognises the same card under different tokens without keeping its number.</summary>
public sealed class CardFingerprintKey(byte[] key)
{
    public string Fingerprint(ReadOnlySpan<char> digits)
    {
        Span<byte> utf8 = stackalloc byte[digits.Length];
        Encoding.ASCII.GetBytes(digits, utf8);
        var mac = HMACSHA256.HashData(key, utf8);
        utf8.Clear();
        return Convert.ToHexStringLower(mac);
    }
}

/// <summary>Card tokenisation (R-PAY-4): the number is checked, fingerprinted and dropped; only a token leaves.</summary>
public static class PaymentMethodsApi
{
    public static IEndpointRouteBuilder MapPaymentMethodsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/payment-methods").WithTags("Payments");
        api.MapPost("/cards", TokeniseCard).RequireAuthorization(Policies.Buyers).ProducesProblems(403);
        api.MapGet("/cards/{token}", GetCard).RequireAuthorization(Policies.Buyers).ProducesProblems(403, 404);
        return app;
    }

    public static async Task<Results<Created<CardTokenResponse>, ValidationProblem, ProblemHttpResult>> TokeniseCard(
        CardRequest request, ClaimsPrincipal user, ICardTokenStore store, CardFingerprintKey fingerprints, TradeClock clock,
        CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        var v = new Validation();
        var buyerId = request.BuyerId ?? (caller.Role == Roles.Buyer ? caller.Subject : null);
        if (buyerId is null) v.Add("buyerId", "buyerId is required.");
        else v.Identifier("buyerId", buyerId);
        if (!CardNumber.TryParse(request.Number, out var card, out var reason))
        {
            v.Add("number", reason);
        }
        var now = clock.GetUtcNow();
        v.Required("expiryMonth", request.ExpiryMonth);
        v.Range("expiryMonth", request.ExpiryMonth, 1, 12);
        v.Required("expiryYear", request.ExpiryYear);
        v.Range("expiryYear", request.ExpiryYear, now.Year, now.Year + 20);
        if (request.ExpiryMonth is >= 1 and <= 12 && request.ExpiryYear is { } year && (year, request.ExpiryMonth.Value).CompareTo((now.Year, now.Month)) < 0)
        {
            v.Add("expiryMonth", "The card has expired.");
        }
        if (request.HolderName is { Length: > 100 }) v.Add("holderName", "holderName must be at most 100 characters.");
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (caller.Role == Roles.Buyer && caller.Subject != buyerId)
        {
            return Problems.Forbidden($"This key acts for buyer '{caller.Subject}' and cannot add cards for buyer '{buyerId}'.");
        }
        var token = new CardToken("card_" + Ulid.NewUlid(now), buyerId!, card!.Brand, card.Bin, card.Last4,
            BinCountries.Sandbox.GetValueOrDefault(card.Bin), request.ExpiryMonth!.Value, request.ExpiryYear!.Value,
            fingerprints.Fingerprint(card.Digits), now);
        await store.InsertAsync(token, cancellationToken);
        return TypedResults.Created($"/api/v1/payment-methods/cards/{token.Token}", CardTokenResponse.From(token));
    }

    public static async Task<Results<Ok<CardTokenResponse>, ProblemHttpResult>> GetCard(string token, ClaimsPrincipal user, ICardTokenStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        var card = token.Length <= 64 ? await store.FindAsync(token, cancellationToken) : null;
        return card is null || (caller.Role == Roles.Buyer && caller.Subject != card.BuyerId)
            ? Problems.NotFound($"Card token '{token}' does not exist.")
            : TypedResults.Ok(CardTokenResponse.From(card));
    }
}
