using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Api.Payments;

/// <summary>How to pay: <c>method</c> is card, wallet, bankTransfer or instalments; cards and instalments name a card token.</summary>
public sealed record PaymentRequest(
    [Required] string? Method,
    [Description("Required for card and instalments: a token from POST /api/v1/payment-methods/cards.")] string? CardToken,
    [Description("Required for wallet.")] string? WalletAccount,
    [Description("Required for instalments: the number of monthly parts.")] int? Instalments);

public sealed record RefundRequest(
    [property: Description("In the order's currency; left out (with lines), everything still refundable.")] Money? Amount,
    string? Reason,
    [property: Description("Instead of an amount: the units refunded, one entry per line. Each is refunded what it was paid (its line's value less the line's share of a coupon) and its share of the VAT paid at checkout, rounded down; every unit: everything still refundable.")]
    IReadOnlyList<ReturnLineRequest?>? Lines = null);

public sealed record PaymentResponse(
    string PaymentId,
    string OrderId,
    string BuyerId,
    Money Amount,
    PaymentMethodType Method,
    string? CardLast4,
    PaymentStatus Status,
    string Provider,
    string? DeclineCode,
    string? Message,
    string? ActionUrl,
    string? TransferReference,
    DateTimeOffset? PayBy,
    IReadOnlyList<Instalment>? Schedule,
    Money Refunded,
    IReadOnlyList<PaymentRefundView> Refunds,
    IReadOnlyList<PaymentHistoryEntry> History,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    Orleans.Trade.Risk.RiskScore? RiskScore,
    bool HeldForReview)
{
    /// <summary>
    /// The payment as <paramref name="caller"/> may see it: the risk score (score, decision, reasons with their weights) only for
    /// admins and fraud analysts. Shown to the payer, each refused attempt would tell a fraudster which signal gave it away.
    /// </summary>
    public static PaymentResponse From(PaymentView v, Caller caller)
    {
        var staff = caller.Role is Roles.Admin or Roles.Analyst;
        // The refusal's message and the history's score entries name the signal too, so the payer sees neither.
        return new(v.PaymentId, v.OrderId, v.BuyerId, v.Amount, v.Method, v.CardLast4, v.Status, v.Provider, v.DeclineCode,
            staff || v.DeclineCode != RiskBlocked ? v.Message : "The payment was declined.", v.ActionUrl, v.TransferReference, v.PayBy,
            v.Schedule, v.Refunded, v.Refunds,
            staff ? v.History : v.History.Select(h => h.Event is "Scored" or "HeldForReview" ? h with { Detail = null } : h).ToArray(),
            v.CreatedAt, v.UpdatedAt, staff ? v.RiskScore : null, v.HeldForReview);
    }

    private const string RiskBlocked = "risk_blocked";

    /// <summary>Still waiting on the provider or the buyer (202), or settled one way or the other (201).</summary>
    public bool InProgress => Status is PaymentStatus.Pending or PaymentStatus.RequiresAction or PaymentStatus.AwaitingTransfer or PaymentStatus.Authorized;
}

public sealed record PaymentListResponse(string OrderId, IReadOnlyList<PaymentResponse> Items);

public sealed record RefundListResponse(string OrderId, IReadOnlyList<OrderRefundView> Items);

/// <summary>Paying orders (R-PAY-1, R-PAY-3), refunds (R-SET-3) and the provider's webhooks.</summary>
public static class PaymentsApi
{
    private const int MaxWebhookBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapPaymentsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Payments");
        api.MapPost("/orders/{orderId}/payments", Pay).RequireAuthorization(Policies.Buyers).ProducesProblems(403, 404, 409, 422);
        api.MapGet("/orders/{orderId}/payments", ListPayments).RequireAuthorization().ProducesProblems(404);
        api.MapGet("/payments/{paymentId}", GetPayment).RequireAuthorization().ProducesProblems(404);
        api.MapPost("/orders/{orderId}/refunds", Refund).RequireAuthorization().ProducesProblems(403, 404, 409, 422);
        api.MapGet("/orders/{orderId}/refunds", ListRefunds).RequireAuthorization().ProducesProblems(404);
        api.MapPost("/payments/webhooks/{provider}", Webhook).AllowAnonymous().ProducesProblems(400, 404, 422);
        return app;
    }

    public static async Task<Results<Created<PaymentResponse>, Accepted<PaymentResponse>, ValidationProblem, ProblemHttpResult>> Pay(
        string orderId, [FromHeader(Name = "Idempotency-Key"), Required] string? idempotencyKey, PaymentRequest request, ClaimsPrincipal user,
        IGrainFactory grains, ICardTokenStore cards, TradeClock clock, HttpContext http, Microsoft.Extensions.Configuration.IConfiguration configuration,
        CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        var v = new Validation();
        IdempotencyKey(v, idempotencyKey);
        var (order, view) = await OrdersApi.ReadableAsync(orderId, caller, grains);
        if (view is null)
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        var (instrument, problem) = await Instrument(v, "", request, view.BuyerId, cards, clock, cancellationToken);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (problem is not null)
        {
            return problem;
        }
        var key = $"{caller.Name}/{idempotencyKey}";
        var (payment, failure) = await Start(order!, Registration(key, instrument!, caller, Risk.ClientSignals.From(http, configuration)), grains,
            http.RequestServices.GetService<INewGrainMarks>());
        if (failure is not null)
        {
            return failure;
        }
        var response = PaymentResponse.From(payment!, caller);
        return response.InProgress
            ? TypedResults.Accepted($"/api/v1/payments/{response.PaymentId}", response)
            : TypedResults.Created($"/api/v1/payments/{response.PaymentId}", response);
    }

    /// <summary>Registers the payment on the order (idempotent per key) and starts it; used by checkout for inline payment too.</summary>
    /// <summary>A payment attempt on an order, keyed by <paramref name="key"/>; the same key with another instrument is refused.</summary>
    public static PaymentRegistrationRequest Registration(string key, PaymentInstrument instrument, Caller caller, RiskSignals signals) =>
        new(key, $"{instrument.Type}|{instrument.CardToken}|{instrument.WalletAccount}|{instrument.InstalmentCount}", instrument,
            new OrderActor(caller.Role, caller.Subject), signals);

    public static async Task<(PaymentView? Payment, ProblemHttpResult? Problem)> Start(
        IOrderGrain order, PaymentRegistrationRequest request, IGrainFactory grains, INewGrainMarks? marks) =>
        await Start(await order.RegisterPayment(request), grains, marks);

    /// <summary>
    /// Starts a registered payment at the provider, or answers why it cannot be registered. A payment registered just now has
    /// no stored state yet (only its own activation writes it, and this is its first call), so its activation on this silo is
    /// told to skip the storage read (<paramref name="marks"/>).
    /// </summary>
    public static async Task<(PaymentView? Payment, ProblemHttpResult? Problem)> Start(PaymentRegistration registration, IGrainFactory grains,
        INewGrainMarks? marks)
    {
        ProblemHttpResult? problem = registration.Status switch
        {
            PaymentRegistrationStatus.Created or PaymentRegistrationStatus.Existing => null,
            PaymentRegistrationStatus.NotFound => Problems.NotFound(registration.Reason!),
            PaymentRegistrationStatus.Forbidden => Problems.Forbidden(registration.Reason!),
            PaymentRegistrationStatus.NotPayable => Problems.Conflict(registration.Reason!,
                new Dictionary<string, object?> { ["currentStatus"] = registration.CurrentStatus is { } current ? Validation.CamelCase(current.ToString()) : null }),
            _ => Problems.Unprocessable(registration.Reason!),
        };
        if (problem is not null)
        {
            return (null, problem);
        }
        var start = registration.Start!;
        var payment = grains.GetGrain<IPaymentGrain>(start.PaymentId);
        var mark = registration.Status == PaymentRegistrationStatus.Created ? marks : null;
        mark?.Minted(payment.GetGrainId());
        try
        {
            return (await payment.Start(start), null);
        }
        finally
        {
            mark?.Forget(payment.GetGrainId());
        }
    }

    /// <summary>Checks a payment request and resolves its card token (which must be the buyer's and not expired).</summary>
    public static async Task<(PaymentInstrument? Instrument, ProblemHttpResult? Problem)> Instrument(
        Validation v, string prefix, PaymentRequest request, string buyerId, ICardTokenStore cards, TradeClock clock, CancellationToken cancellationToken)
    {
        PaymentMethodType? method = request.Method switch
        {
            "card" => PaymentMethodType.Card,
            "wallet" => PaymentMethodType.Wallet,
            "bankTransfer" => PaymentMethodType.BankTransfer,
            "instalments" => PaymentMethodType.Instalments,
            _ => null,
        };
        if (method is null)
        {
            v.Add(prefix + "method", "method must be one of: card, wallet, bankTransfer, instalments.");
            return (null, null);
        }
        switch (method)
        {
            case PaymentMethodType.Wallet:
                v.Identifier(prefix + "walletAccount", request.WalletAccount);
                return (new PaymentInstrument(PaymentMethodType.Wallet, WalletAccount: request.WalletAccount), null);
            case PaymentMethodType.BankTransfer:
                return (new PaymentInstrument(PaymentMethodType.BankTransfer), null);
        }
        if (method == PaymentMethodType.Instalments && request.Instalments is null)
        {
            v.Add(prefix + "instalments", "instalments (the number of monthly parts) is required for method instalments.");
        }
        if (request.CardToken is not { Length: > 0 and <= 64 })
        {
            v.Add(prefix + "cardToken", $"cardToken is required for method {request.Method}: a token from POST /api/v1/payment-methods/cards.");
            return (null, null);
        }
        var card = await cards.FindAsync(request.CardToken, cancellationToken);
        if (card is null || card.BuyerId != buyerId)
        {
            return (null, Problems.Unprocessable($"Card token '{request.CardToken}' does not exist for buyer '{buyerId}'."));
        }
        var now = clock.GetUtcNow();
        if ((card.ExpiryYear, card.ExpiryMonth).CompareTo((now.Year, now.Month)) < 0)
        {
            return (null, Problems.Unprocessable($"The card behind token '{card.Token}' expired in {card.ExpiryMonth:00}/{card.ExpiryYear}."));
        }
        return (new PaymentInstrument(method.Value, card.Token, card.Bin, card.Last4,
            InstalmentCount: method == PaymentMethodType.Instalments ? request.Instalments : null,
            CardFingerprint: card.Fingerprint, CardBinCountry: card.BinCountry), null);
    }

    public static async Task<Results<Ok<PaymentListResponse>, ProblemHttpResult>> ListPayments(string orderId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = Caller.From(user);
        var (order, view) = await OrdersApi.ReadableAsync(orderId, caller, grains);
        if (view is null)
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        var attempts = await order!.PaymentAttempts();
        var payments = await Task.WhenAll(attempts.Select(a => grains.GetGrain<IPaymentGrain>(a.PaymentId).Get()));
        return TypedResults.Ok(new PaymentListResponse(orderId, payments.Where(p => p is not null).Select(p => PaymentResponse.From(p!, caller)).ToArray()));
    }

    public static async Task<Results<Ok<PaymentResponse>, ProblemHttpResult>> GetPayment(string paymentId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var payment = Ids.IsValid(paymentId) ? await grains.GetGrain<IPaymentGrain>(paymentId).Get() : null;
        var caller = Caller.From(user);
        if (payment is null || !(caller.Role is Roles.Admin or Roles.Analyst
                || (caller.Role == Roles.Buyer && caller.Subject == payment.BuyerId)
                || (caller.Role is Roles.Seller or Roles.Erp && caller.Subject == payment.SellerId)))
        {
            return Problems.NotFound($"Payment '{paymentId}' does not exist.");
        }
        return TypedResults.Ok(PaymentResponse.From(payment, caller));
    }

    public static async Task<Results<Ok<OrderRefundView>, Accepted<OrderRefundView>, ValidationProblem, ProblemHttpResult>> Refund(
        string orderId, [FromHeader(Name = "Idempotency-Key"), Required] string? idempotencyKey, RefundRequest request, ClaimsPrincipal user,
        IGrainFactory grains)
    {
        var caller = Caller.From(user);
        var v = new Validation();
        IdempotencyKey(v, idempotencyKey);
        if (request.Amount is { } amount)
        {
            v.Currency("amount.currency", amount.Currency);
            if (amount.AmountMinor <= 0) v.Add("amount.amountMinor", "amount.amountMinor must be positive; leave amount out to refund everything left.");
        }
        if (request.Reason is { Length: > 500 }) v.Add("reason", "reason must be at most 500 characters.");
        var lines = ReturnsApi.Lines(v, request.Lines, "leave it out to refund an amount");
        if (request.Lines is not null && request.Amount is not null) v.Add("lines", "Give amount or lines, not both.");
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var (order, view) = await OrdersApi.ReadableAsync(orderId, caller, grains);
        if (view is null)
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        var result = await order!.RequestRefund(new OrderRefundRequest($"{caller.Name}/{idempotencyKey}", request.Amount, request.Reason?.Trim(),
            new OrderActor(caller.Role, caller.Subject), lines));
        var current = new Dictionary<string, object?> { ["currentStatus"] = result.CurrentStatus is { } status ? Validation.CamelCase(status.ToString()) : null };
        return result.Status switch
        {
            OrderRefundStatus.Accepted => TypedResults.Accepted($"/api/v1/orders/{orderId}/refunds", result.Refund!),
            OrderRefundStatus.Existing => TypedResults.Ok(result.Refund!),
            OrderRefundStatus.NotFound => Problems.NotFound(result.Reason!),
            OrderRefundStatus.Forbidden => Problems.Forbidden(result.Reason!),
            OrderRefundStatus.NotRefundable or OrderRefundStatus.InsufficientSellerFunds => Problems.Conflict(result.Reason!, current),
            _ => Problems.Unprocessable(result.Reason!, current),
        };
    }

    public static async Task<Results<Ok<RefundListResponse>, ProblemHttpResult>> ListRefunds(string orderId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var (order, view) = await OrdersApi.ReadableAsync(orderId, Caller.From(user), grains);
        if (view is null)
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        return TypedResults.Ok(new RefundListResponse(orderId, await order!.Refunds()));
    }

    /// <summary>
    /// The provider's webhook. Unauthenticated by API key: the provider signs each request, and anything unsigned, stale or
    /// forged is refused with 400, and a signed event that is not about this payment's money (another amount, currency or provider
    /// payment, a capture of part of it, a refund of another amount than the one asked) with 422. Answers 200 once the payment has
    /// durably taken the event, so the provider can stop retrying.
    /// </summary>
    public static async Task<Results<Ok<WebhookAck>, ProblemHttpResult>> Webhook(string provider, HttpRequest request, IPaymentProvider payments,
        IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!string.Equals(provider, payments.Name, StringComparison.Ordinal))
        {
            return Problems.NotFound($"There is no payment provider '{provider}' here.");
        }
        if (request.ContentLength is > MaxWebhookBytes)
        {
            return TypedResults.Problem($"A webhook body is at most {MaxWebhookBytes} bytes.", statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
        }
        // Read only up to the limit: a body sent in chunks (no Content-Length) is refused as soon as it passes it, instead of
        // being held whole (up to the server's 30 MB) by an endpoint anyone may call.
        using var buffer = new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024); // every paid checkout's webhook comes through here
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxWebhookBytes)
                {
                    return TypedResults.Problem($"A webhook body is at most {MaxWebhookBytes} bytes.", statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
                }
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
        ProviderEvent providerEvent;
        try
        {
            var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            providerEvent = payments.ParseWebhook(headers, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (InvalidWebhookException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid webhook");
        }
        var payment = Ids.IsValid(providerEvent.PaymentId) ? grains.GetGrain<IPaymentGrain>(providerEvent.PaymentId) : null;
        var view = payment is null ? null : await payment.Get();
        if (view is null)
        {
            // Not ours (or not yet written): acknowledged, so the provider stops; a payment asks the provider itself when it resumes.
            return TypedResults.Ok(new WebhookAck(providerEvent.EventId, false));
        }
        if (Mismatch(providerEvent, view) is { } mismatch)
        {
            // Signed, but not about this payment's money: applied, a capture of another amount (or of part of it) paid the order in
            // full. Refused, so it is seen (the provider keeps it as failed) and nothing changes.
            return Problems.Unprocessable(mismatch);
        }
        await payment!.HandleProviderEvent(providerEvent);
        return TypedResults.Ok(new WebhookAck(providerEvent.EventId, true));
    }

    /// <summary>Why a verified event cannot be about <paramref name="payment"/>, or null when it can.</summary>
    private static string? Mismatch(ProviderEvent e, PaymentView payment)
    {
        var amount = payment.Amount;
        if (payment.ProviderPaymentId is { } known && e.Outcome.ProviderPaymentId is { } named && named != known)
        {
            return $"The event is about provider payment '{named}'; payment {payment.PaymentId} is '{known}' at the provider.";
        }
        if (e.Amount is { } said && said != amount)
        {
            return $"The event is for {said.AmountMinor} {said.Currency} (minor units); payment {payment.PaymentId} is for {amount.AmountMinor} {amount.Currency}.";
        }
        if (e.Outcome.Status == ProviderPaymentStatus.Captured && e.CapturedMinor is { } captured && captured != amount.AmountMinor)
        {
            return $"The event says {captured} {amount.Currency} (minor units) were captured; payment {payment.PaymentId} is captured only in full, {amount.AmountMinor}.";
        }
        // Applied, a refund of another amount (or of one not said) settled ours as paid back in full: it stays pending instead.
        if (e.RefundId is { } refundId && payment.Refunds.FirstOrDefault(r => r.RefundId == refundId) is { } refund && e.RefundAmount != refund.Amount)
        {
            return e.RefundAmount is { } returned
                ? $"The event says refund '{refundId}' returned {returned.AmountMinor} {returned.Currency} (minor units); it is for {refund.Amount.AmountMinor} {refund.Amount.Currency}."
                : $"The event does not say how much refund '{refundId}' returned; it is for {refund.Amount.AmountMinor} {refund.Amount.Currency} (minor units).";
        }
        return null;
    }

    private static void IdempotencyKey(Validation v, string? key)
    {
        if (key is null || key.Length is < 8 or > 100 || key.Any(char.IsControl))
        {
            v.Add("Idempotency-Key", "The Idempotency-Key header is required: 8-100 characters, unique per request (e.g. a UUID).");
        }
    }

}

public sealed record WebhookAck(string EventId, bool Known);
