using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Payments;
using Orleans.Trade.Payments.Sandbox;

namespace Orleans.Trade.Api.Payments;

/// <summary>
/// The sandbox payment provider's own HTTP API, hosted in the silo for development and tests (R-PAY-1). It is a stand-in for
/// an external provider, so it is not part of our public API document and has its own authentication (a bearer secret).
/// </summary>
public static partial class SandboxPspApi
{
    private const int MaxIdempotencyKeyLength = 255;
    private static readonly JsonSerializerOptions FingerprintJson = new(JsonSerializerDefaults.Web);

    /// <summary>Maps the sandbox under <c>/sandbox/psp/v1</c> when <c>Payments:Provider</c> is <c>sandbox</c> (the default).</summary>
    public static IEndpointRouteBuilder MapSandboxPsp(this IEndpointRouteBuilder app, IConfiguration configuration)
    {
        if (!string.Equals(configuration["Payments:Provider"] ?? "sandbox", "sandbox", StringComparison.OrdinalIgnoreCase))
        {
            return app;
        }
        var psp = app.MapGroup("/sandbox/psp/v1").ExcludeFromDescription().AddEndpointFilter(RequireApiKey);
        psp.MapPost("/payments", Authorize);
        psp.MapGet("/payments", Lookup);
        psp.MapPost("/payments/{providerPaymentId}/capture", Capture);
        psp.MapPost("/payments/{providerPaymentId}/void", Void);
        psp.MapPost("/payments/{providerPaymentId}/refunds", Refund);
        psp.MapPost("/challenges/{providerPaymentId}", CompleteChallenge);
        psp.MapPost("/bank-transfers/{transferReference}/receive", ReceiveTransfer);
        return app;
    }

    private static async ValueTask<object?> RequireApiKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var expected = Encoding.UTF8.GetBytes("Bearer " + http.RequestServices.GetRequiredService<IOptions<SandboxPspOptions>>().Value.ApiKey);
        var given = Encoding.UTF8.GetBytes(http.Request.Headers.Authorization.ToString());
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem("Send the sandbox API key as 'Authorization: Bearer <Payments:Sandbox:ApiKey>'.",
                statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }
        return await next(context);
    }

    public static async Task<IResult> Authorize(SandboxAuthorizeBody body, HttpContext http, IGrainFactory grains, TradeClock clock)
    {
        var v = new Validation();
        v.Identifier("reference", body.Reference);
        ValidateAmount(v, "amount", body.Amount);
        ValidateInstrument(v, body.Instrument);
        if (body.PayBy is { } payBy)
        {
            if (body.Instrument?.Type != PaymentMethodType.BankTransfer) v.Add("payBy", "payBy applies to bank transfers only.");
            else if (payBy <= clock.GetUtcNow()) v.Add("payBy", "payBy must be in the future.");
        }
        if (body.CaptureMethod is not (null or SandboxCaptureMethods.Manual or SandboxCaptureMethods.Automatic))
        {
            v.Add("captureMethod", $"captureMethod must be \"{SandboxCaptureMethods.Manual}\" or \"{SandboxCaptureMethods.Automatic}\".");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var command = new SandboxAuthorizeCommand(body.Amount!, body.Instrument!, body.PayBy,
            $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}", body.CaptureMethod == SandboxCaptureMethods.Automatic);
        return await Idempotent(http, grains, "authorize", body.Reference!, body,
            (payment, key) => payment.Authorize(key, command), a => a.Payment);
    }

    public static async Task<IResult> Lookup(string? reference, IGrainFactory grains)
    {
        if (!Ids.IsValid(reference))
        {
            return new Validation().Add("reference", "reference (our payment id) is required.").Problem();
        }
        return await grains.GetGrain<ISandboxPspPaymentGrain>(reference!).Get() is { } payment
            ? TypedResults.Ok(payment)
            : Problems.NotFound($"No sandbox payment has reference '{reference}'.");
    }

    public static async Task<IResult> Capture(string providerPaymentId, SandboxCaptureBody body, HttpContext http, IGrainFactory grains)
    {
        var v = new Validation();
        ValidateAmount(v, "amount", body.Amount);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return await OnPayment(http, grains, "capture", providerPaymentId, body, (payment, key) => payment.Capture(key, body.Amount!), a => a.Payment);
    }

    public static Task<IResult> Void(string providerPaymentId, HttpContext http, IGrainFactory grains) =>
        OnPayment(http, grains, "void", providerPaymentId, new { }, (payment, key) => payment.Void(key), a => a.Payment);

    public static async Task<IResult> Refund(string providerPaymentId, SandboxRefundBody body, HttpContext http, IGrainFactory grains)
    {
        var v = new Validation();
        v.Identifier("refundId", body.RefundId);
        ValidateAmount(v, "amount", body.Amount);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return await OnPayment(http, grains, "refund", providerPaymentId, body, (payment, key) => payment.Refund(key, body.RefundId!, body.Amount!),
            a => new SandboxRefundAnswer(a.Refund!, a.Payment!));
    }

    public static async Task<IResult> CompleteChallenge(string providerPaymentId, SandboxChallengeBody body, IGrainFactory grains)
    {
        if (body.Result is not ("pass" or "fail"))
        {
            return new Validation().Add("result", "result must be \"pass\" or \"fail\".").Problem();
        }
        if (!SandboxIds.TryReference(providerPaymentId, out var reference))
        {
            return Problems.NotFound($"No sandbox payment has id '{providerPaymentId}'.");
        }
        return ToResult(await grains.GetGrain<ISandboxPspPaymentGrain>(reference).CompleteChallenge(body.Result == "pass"), a => a.Payment);
    }

    public static async Task<IResult> ReceiveTransfer(string transferReference, IGrainFactory grains)
    {
        var canonical = SandboxIds.CanonicalTransferReference(transferReference);
        if (canonical.Length is 0 or > 32 || await grains.GetGrain<ISandboxPspTransferGrain>(canonical).PaymentReference() is not { } reference)
        {
            return Problems.NotFound($"No bank transfer is expected under reference '{transferReference}'.");
        }
        return ToResult(await grains.GetGrain<ISandboxPspPaymentGrain>(reference).ReceiveTransfer(), a => a.Payment);
    }

    private static Task<IResult> OnPayment<TBody>(HttpContext http, IGrainFactory grains, string operation, string providerPaymentId, TBody body,
        Func<ISandboxPspPaymentGrain, string, Task<SandboxAnswer>> call, Func<SandboxAnswer, object?> shape)
    {
        return SandboxIds.TryReference(providerPaymentId, out var reference)
            ? Idempotent(http, grains, operation, reference, body, call, shape)
            : Task.FromResult<IResult>(Problems.NotFound($"No sandbox payment has id '{providerPaymentId}'."));
    }

    /// <summary>
    /// Claims the Idempotency-Key for this exact request (operation, payment, body), then asks the payment grain, which
    /// returns the stored answer to a repeat. The slow test card's first answer is held back here, after it was recorded.
    /// </summary>
    private static async Task<IResult> Idempotent<TBody>(HttpContext http, IGrainFactory grains, string operation, string reference, TBody body,
        Func<ISandboxPspPaymentGrain, string, Task<SandboxAnswer>> call, Func<SandboxAnswer, object?> shape)
    {
        var key = http.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length is 0 or > MaxIdempotencyKeyLength || !PrintableAscii().IsMatch(key))
        {
            return new Validation().Add("Idempotency-Key", $"The Idempotency-Key header is required: 1 to {MaxIdempotencyKeyLength} printable ASCII characters.").Problem();
        }
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{operation}\n{reference}\n{JsonSerializer.Serialize(body, FingerprintJson)}")));
        var keys = http.RequestServices.GetRequiredService<ISandboxIdempotencyKeys>();
        if (!await keys.ClaimAsync(key, fingerprint, CancellationToken.None))
        {
            return Problems.Unprocessable("This Idempotency-Key was already used for a different request; use a new key for a new request.");
        }
        var answer = await call(grains.GetGrain<ISandboxPspPaymentGrain>(reference), key);
        if (answer.AnswerAfter > TimeSpan.Zero)
        {
            await Task.Delay(answer.AnswerAfter, http.RequestAborted).ContinueWith(_ => { }, CancellationToken.None);
        }
        return ToResult(answer, shape);
    }

    private static IResult ToResult(SandboxAnswer answer, Func<SandboxAnswer, object?> shape) => answer.Kind switch
    {
        SandboxAnswerKind.Ok => TypedResults.Ok(shape(answer)),
        SandboxAnswerKind.NotFound => Problems.NotFound(answer.Detail ?? "Not found."),
        SandboxAnswerKind.Conflict => Problems.Conflict(answer.Detail ?? "Conflict.",
            new Dictionary<string, object?> { ["paymentStatus"] = answer.Payment?.Status }),
        SandboxAnswerKind.InProgress => new RetryAfter(Problems.Conflict(answer.Detail ?? "In progress.",
            new Dictionary<string, object?> { ["code"] = SandboxProblemCodes.InProgress })),
        _ => Problems.Unprocessable(answer.Detail ?? "Unprocessable."),
    };

    private static void ValidateAmount(Validation v, string field, Money? amount)
    {
        if (amount is null)
        {
            v.Add(field, $"{field} is required: {{amountMinor, currency}}.");
            return;
        }
        v.Range($"{field}.amountMinor", amount.AmountMinor, 1, 1_000_000_000_000);
        v.Currency($"{field}.currency", amount.Currency);
    }

    private static void ValidateInstrument(Validation v, SandboxInstrument? instrument)
    {
        if (instrument?.Type is not { } type)
        {
            v.Add("instrument.type", "instrument.type is required: card, wallet, bankTransfer or instalments.");
            return;
        }
        if (type is PaymentMethodType.Card or PaymentMethodType.Instalments)
        {
            if (instrument.CardBin is null || !SixDigits().IsMatch(instrument.CardBin)) v.Add("instrument.cardBin", "cardBin must be the card's first 6 digits.");
            if (instrument.CardLast4 is null || !FourDigits().IsMatch(instrument.CardLast4)) v.Add("instrument.cardLast4", "cardLast4 must be the card's last 4 digits.");
        }
        if (type == PaymentMethodType.Instalments && instrument.InstalmentCount is not (3 or 6 or 12))
        {
            v.Add("instrument.instalmentCount", "instalmentCount must be 3, 6 or 12.");
        }
        if (type != PaymentMethodType.Instalments && instrument.InstalmentCount is not null)
        {
            v.Add("instrument.instalmentCount", "instalmentCount applies to instalments only.");
        }
        if (type == PaymentMethodType.Wallet && (string.IsNullOrWhiteSpace(instrument.WalletAccount) || instrument.WalletAccount.Length > 100))
        {
            v.Add("instrument.walletAccount", "walletAccount is required for a wallet (at most 100 characters).");
        }
    }

    /// <summary>A problem answer with <c>Retry-After: 1</c>.</summary>
    private sealed class RetryAfter(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = "1";
            return inner.ExecuteAsync(httpContext);
        }
    }

    [GeneratedRegex(@"\A[0-9]{6}\z")]
    private static partial Regex SixDigits();

    [GeneratedRegex(@"\A[0-9]{4}\z")]
    private static partial Regex FourDigits();

    [GeneratedRegex(@"\A[\x21-\x7E]+\z")]
    private static partial Regex PrintableAscii();
}
