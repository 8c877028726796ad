using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Orleans.Trade.Common;

namespace Orleans.Trade.Payments.Sandbox;

/// <summary>
/// Our adapter to the sandbox provider over HTTP. Each call has its own time-out; connection errors, 5xx answers and "still in
/// progress" answers are retried a few times with the same idempotency key. A time-out, or retries used up, means the outcome
/// is unknown: <see cref="PaymentProviderUnavailableException"/>. An authorization whose fields the provider refuses (400) is declined;
/// any other refusal is a bug on our side: <see cref="InvalidOperationException"/>.
/// </summary>
public sealed class SandboxPaymentProvider(HttpClient http, SandboxPspOptions options, ISelfHttpAddress? self = null, TimeProvider? systemClock = null)
    : IPaymentProvider
{
    public const string ProviderName = "sandbox";

    private readonly TimeProvider _systemClock = systemClock ?? TimeProvider.System;

    public string Name => ProviderName;

    private Uri BaseUrl => options.BaseUrl ?? self?.BaseUrl
        ?? throw new InvalidOperationException("Payments:Sandbox:BaseUrl is not set and the silo's own address is not known yet.");

    public async Task<ProviderOutcome> AuthorizeAsync(ProviderAuthorizeRequest request, CancellationToken cancellationToken)
    {
        var i = request.Instrument;
        // Only what the sandbox needs to decide: BIN and last four, never the token.
        var body = new SandboxAuthorizeBody(request.PaymentId, request.Amount,
            new SandboxInstrument(i.Type, i.CardBin, i.CardLast4, i.WalletAccount, i.InstalmentCount), request.PayBy,
            request.CaptureAtOnce ? SandboxCaptureMethods.Automatic : null);
        try
        {
            return Outcome(await SendAsync<SandboxPaymentView>(HttpMethod.Post, "sandbox/psp/v1/payments", body, request.IdempotencyKey, cancellationToken));
        }
        catch (ProviderRefusedRequestException refused)
        {
            // The provider will never take this request as it is (an amount above its limit, say): asking again under the same
            // key gets the same answer, so the payment fails here, and the order waits for another payment.
            return new ProviderOutcome(ProviderPaymentStatus.Declined, null, "provider_refused_request", refused.Detail);
        }
    }

    public async Task<ProviderOutcome> CaptureAsync(string providerPaymentId, Money amount, string idempotencyKey, CancellationToken cancellationToken) =>
        Outcome(await SendAsync<SandboxPaymentView>(HttpMethod.Post, $"sandbox/psp/v1/payments/{Uri.EscapeDataString(providerPaymentId)}/capture",
            new SandboxCaptureBody(amount), idempotencyKey, cancellationToken));

    public async Task<ProviderOutcome> VoidAsync(string providerPaymentId, string idempotencyKey, CancellationToken cancellationToken) =>
        Outcome(await SendAsync<SandboxPaymentView>(HttpMethod.Post, $"sandbox/psp/v1/payments/{Uri.EscapeDataString(providerPaymentId)}/void",
            new { }, idempotencyKey, cancellationToken));

    public async Task<ProviderRefundOutcome> RefundAsync(string providerPaymentId, string refundId, Money amount, string idempotencyKey, CancellationToken cancellationToken)
    {
        SandboxRefundAnswer? answer;
        try
        {
            answer = await SendAsync<SandboxRefundAnswer>(HttpMethod.Post, $"sandbox/psp/v1/payments/{Uri.EscapeDataString(providerPaymentId)}/refunds",
                new SandboxRefundBody(refundId, amount), idempotencyKey, cancellationToken, unprocessableIsFinal: true);
        }
        catch (ProviderRefusedRequestException refused)
        {
            // The provider will never take this refund (more refunds than it allows, more than is left): asking again under the
            // same key gets the same answer, so it fails here and the order has it paid back by hand.
            return new ProviderRefundOutcome(RefundOutcomeStatus.Failed, null, refused.Message);
        }
        return new ProviderRefundOutcome(answer!.Refund.Status, answer.Refund.ProviderRefundId);
    }

    public async Task<ProviderOutcome?> LookupAsync(string paymentId, CancellationToken cancellationToken)
    {
        var view = await SendAsync<SandboxPaymentView>(HttpMethod.Get, $"sandbox/psp/v1/payments?reference={Uri.EscapeDataString(paymentId)}",
            null, null, cancellationToken, notFoundIsNull: true);
        return view is null ? null : Outcome(view);
    }

    public ProviderEvent ParseWebhook(IReadOnlyDictionary<string, string> headers, ReadOnlySpan<byte> body)
    {
        var header = headers.FirstOrDefault(h => string.Equals(h.Key, SandboxSignature.HeaderName, StringComparison.OrdinalIgnoreCase)).Value;
        if (SandboxSignature.Verify(options.WebhookSecret, header, body, _systemClock.GetUtcNow()) is { } reason)
        {
            throw new InvalidWebhookException(reason);
        }
        SandboxWebhookEvent? e;
        try
        {
            e = JsonSerializer.Deserialize<SandboxWebhookEvent>(body, SandboxJson.Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidWebhookException($"The webhook body is not a sandbox event: {ex.Message}");
        }
        if (e is not { EventId.Length: > 0, Payment: { Reference.Length: > 0, ProviderPaymentId.Length: > 0 } payment })
        {
            throw new InvalidWebhookException("The webhook body lacks its event id or payment.");
        }
        return new ProviderEvent(e.EventId, payment.Reference, Outcome(payment), e.Refund?.RefundId, e.Refund?.Status, payment.Amount, payment.CapturedMinor,
            e.Refund?.Amount);
    }

    private static ProviderOutcome Outcome(SandboxPaymentView? p) =>
        p is null ? throw new InvalidOperationException("The sandbox answered without a payment.")
            : new ProviderOutcome(p.Status, p.ProviderPaymentId, p.DeclineCode, p.Message, p.ActionUrl, p.TransferReference);

    /// <param name="unprocessableIsFinal">
    /// A 422 is the provider refusing the request for good (a refund past its limits) rather than a key conflict of ours:
    /// <see cref="ProviderRefusedRequestException"/>.
    /// </param>
    private async Task<T?> SendAsync<T>(HttpMethod method, string path, object? body, string? idempotencyKey, CancellationToken cancellationToken,
        bool notFoundIsNull = false, bool unprocessableIsFinal = false) where T : class
    {
        var attempts = 1 + Math.Max(0, options.MaxRetries);
        string? lastFailure = null;
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(options.RetryBackoff * (1 << Math.Min(attempt - 1, 10)), cancellationToken);
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.RequestTimeout);
            try
            {
                using var request = new HttpRequestMessage(method, new Uri(BaseUrl, path));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
                if (idempotencyKey is not null)
                {
                    request.Headers.Add("Idempotency-Key", idempotencyKey);
                }
                if (body is not null)
                {
                    request.Content = JsonContent.Create(body, body.GetType(), options: SandboxJson.Options);
                }
                using var response = await http.SendAsync(request, timeout.Token);
                var text = await response.Content.ReadAsStringAsync(timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    return JsonSerializer.Deserialize<T>(text, SandboxJson.Options)
                        ?? throw new InvalidOperationException($"The sandbox answered {method} {path} with an empty body.");
                }
                if (response.StatusCode == HttpStatusCode.NotFound && notFoundIsNull)
                {
                    return null;
                }
                var (detail, code) = Problem(text);
                if ((int)response.StatusCode >= 500 || (response.StatusCode == HttpStatusCode.Conflict && code == SandboxProblemCodes.InProgress))
                {
                    lastFailure = $"{(int)response.StatusCode}: {detail}";
                    continue;
                }
                var refused = $"The sandbox refused {method} {path} with {(int)response.StatusCode}: {detail}";
                // A 400 is the request's own fields (an amount above the provider's limit); a 422 is a conflict with what the
                // provider already holds (a key or reference used for another request): a bug of ours, not the buyer's.
                throw response.StatusCode == HttpStatusCode.BadRequest
                    || (response.StatusCode == HttpStatusCode.UnprocessableEntity && unprocessableIsFinal)
                    ? new ProviderRefusedRequestException(detail, refused)
                    : new InvalidOperationException(refused);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new PaymentProviderUnavailableException(
                    $"The sandbox did not answer {method} {path} within {options.RequestTimeout.TotalSeconds:0.###} s; the outcome is unknown.", ex);
            }
            catch (HttpRequestException ex)
            {
                lastFailure = ex.Message;
            }
        }
        throw new PaymentProviderUnavailableException($"The sandbox did not complete {method} {path} after {attempts} attempts; last: {lastFailure}");
    }

    private static (string Detail, string? Code) Problem(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
            var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var code = root.TryGetProperty("code", out var c) ? c.GetString() : null;
            var errors = root.TryGetProperty("errors", out var e) ? " " + e.GetRawText() : "";
            return ((detail ?? title ?? "no detail") + errors, code);
        }
        catch (JsonException)
        {
            return (text.Length > 200 ? text[..200] : text, null);
        }
    }
}

/// <summary>The sandbox refused a request's fields (400): asking again under the same key cannot change its answer.</summary>
public sealed class ProviderRefusedRequestException(string detail, string message) : InvalidOperationException(message)
{
    public string Detail { get; } = detail;
}
