using System.Net;
using System.Net.Http.Headers;
using Orleans.Trade.Common;
using Orleans.Trade.Payments;
using Orleans.Trade.Payments.Sandbox;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Payments;

/// <summary>A silo on PostgreSQL hosting the sandbox provider, whose webhooks go to a test receiver that fails each first attempt.</summary>
public sealed class SandboxPspFixture : IAsyncLifetime
{
    public const string ApiKey = "sandbox-test-key-0123456789";
    public const string WebhookSecret = "sandbox-test-webhook-secret";
    // Well beyond the adapter's 2 s time-out plus its retries, so "still in progress" holds even on a busy machine.
    public static readonly TimeSpan SlowDelay = TimeSpan.FromSeconds(8);

    public WebhookReceiver Receiver { get; } = new(failFirstAttempt: true);
    public SiloProcess Silo { get; private set; } = null!;
    public SandboxPaymentProvider Provider { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var connection = await PostgresServer.CreateDatabaseAsync("sandbox");
        var environment = SiloEnvironment(Receiver.Url);
        environment["Payments__Sandbox__SlowResponseDelay"] = SlowDelay.ToString();
        Silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connection), "sandbox-" + Guid.NewGuid().ToString("N")[..8], environment);
        Provider = ProviderOf(Silo, requestTimeout: TimeSpan.FromSeconds(2));
        // The first request of a fresh silo pays for start-up work (JIT, first activations); keep that out of the timed tests.
        var warmUp = new ProviderAuthorizeRequest("warm-up", "warm-up", new Money(100, "EUR"),
            new PaymentInstrument(PaymentMethodType.Card, CardBin: "424242", CardLast4: "4242"));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await Provider.AuthorizeAsync(warmUp, default);
                return;
            }
            catch (PaymentProviderUnavailableException) when (attempt < 5)
            {
                // Safe to repeat: the same idempotency key.
            }
        }
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    /// <summary>The settings of a silo hosting the sandbox with this fixture's keys, sending its webhooks to <paramref name="webhookUrl"/>.</summary>
    public static Dictionary<string, string> SiloEnvironment(Uri webhookUrl) => new()
    {
        ["Payments__Sandbox__ApiKey"] = ApiKey,
        ["Payments__Sandbox__WebhookSecret"] = WebhookSecret,
        ["Payments__Sandbox__WebhookUrl"] = webhookUrl.ToString(),
        ["Payments__Sandbox__WebhookRetryBase"] = "00:00:00.200",
    };

    /// <summary>Our adapter, in the test process, talking to the sandbox in <paramref name="silo"/>.</summary>
    public static SandboxPaymentProvider ProviderOf(SiloProcess silo, TimeSpan requestTimeout) => new(new HttpClient(), new SandboxPspOptions
    {
        BaseUrl = silo.BaseAddress,
        ApiKey = ApiKey,
        WebhookSecret = WebhookSecret,
        RequestTimeout = requestTimeout,
        RetryBackoff = TimeSpan.FromMilliseconds(100),
    });

    /// <summary>
    /// The webhooks <paramref name="receiver"/> accepted for a payment (signature checked by the adapter), waiting until one matches
    /// <paramref name="match"/>.
    /// </summary>
    public static async Task<List<ProviderEvent>> WaitForEventAsync(WebhookReceiver receiver, SandboxPaymentProvider provider, string paymentId,
        Func<ProviderEvent, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var events = receiver.RawAttempts.Where(a => a.Status == 200)
                .Select(a => provider.ParseWebhook(a.Headers, a.RawBody))
                .Where(e => e.PaymentId == paymentId)
                .ToList();
            if (events.Any(match))
            {
                return events;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No matching webhook for {paymentId}; got: {string.Join(", ", events.Select(e => e.Outcome.Status))}");
            }
            await Task.Delay(100);
        }
    }
}

/// <summary>The sandbox provider end to end: our adapter in the test process, the sandbox in a real silo, webhooks over HTTP.</summary>
public sealed class SandboxPaymentProviderTests(SandboxPspFixture fixture) : IClassFixture<SandboxPspFixture>
{
    private SandboxPaymentProvider Provider => fixture.Provider;

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    private static ProviderAuthorizeRequest CardRequest(string paymentId, string number, long amountMinor = 2500, string? key = null) =>
        new(paymentId, key ?? NewId("idem"), new Money(amountMinor, "EUR"), new PaymentInstrument(PaymentMethodType.Card, "card_tok", number[..6], number[^4..]));

    private Task<List<ProviderEvent>> WaitForEventAsync(string paymentId, Func<ProviderEvent, bool> match, TimeSpan? timeout = null) =>
        SandboxPspFixture.WaitForEventAsync(fixture.Receiver, Provider, paymentId, match, timeout);

    private HttpClient SandboxClient()
    {
        var client = fixture.Silo.CreateClient(apiKey: null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SandboxPspFixture.ApiKey);
        return client;
    }

    [Fact]
    public async Task A_card_payment_is_authorized_captured_and_refunded_with_a_signed_webhook_for_each_change()
    {
        var paymentId = NewId("pay");
        var authorized = await Provider.AuthorizeAsync(CardRequest(paymentId, "4242424242424242"), default);
        Assert.Equal(ProviderPaymentStatus.Authorized, authorized.Status);
        var ppid = authorized.ProviderPaymentId!;

        var captured = await Provider.CaptureAsync(ppid, new Money(2500, "EUR"), NewId("cap"), default);
        Assert.Equal((ProviderPaymentStatus.Captured, ppid), (captured.Status, captured.ProviderPaymentId));

        var refund = await Provider.RefundAsync(ppid, "refund-1", new Money(1000, "EUR"), NewId("ref"), default);
        Assert.Equal(RefundOutcomeStatus.Succeeded, refund.Status);
        Assert.StartsWith("re_", refund.ProviderRefundId);
        // The same refund id again is that refund, not a second one.
        Assert.Equal(refund, await Provider.RefundAsync(ppid, "refund-1", new Money(1000, "EUR"), NewId("ref"), default));
        // More than is left is refused for good: a failed refund (paid back by hand), not a request to repeat.
        var tooMuch = await Provider.RefundAsync(ppid, "refund-2", new Money(1501, "EUR"), NewId("ref"), default);
        Assert.Equal(RefundOutcomeStatus.Failed, tooMuch.Status);
        Assert.Contains("at most the captured 2500", tooMuch.Message);
        Assert.Equal(RefundOutcomeStatus.Succeeded, (await Provider.RefundAsync(ppid, "refund-2", new Money(1500, "EUR"), NewId("ref"), default)).Status);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Provider.VoidAsync(ppid, NewId("void"), default));

        var events = await WaitForEventAsync(paymentId, e => e.RefundId == "refund-2");
        Assert.Contains(events, e => e.Outcome.Status == ProviderPaymentStatus.Authorized && e.RefundId is null);
        Assert.Contains(events, e => e.Outcome.Status == ProviderPaymentStatus.Captured && e.RefundId is null);
        Assert.Contains(events, e => e.RefundId == "refund-1" && e.RefundStatus == RefundOutcomeStatus.Succeeded);
        Assert.Equal(4, events.Select(e => e.EventId).Distinct().Count());
        // The receiver failed every first attempt: each event was retried until it was accepted.
        Assert.All(events, e => Assert.Contains(fixture.Receiver.Attempts, a => a.Id == e.EventId && a.Status == 500));

        Assert.Equal(ProviderPaymentStatus.Captured, (await Provider.LookupAsync(paymentId, default))!.Status);
        Assert.Null(await Provider.LookupAsync(NewId("never"), default));
    }

    [Fact]
    public async Task Automatic_capture_captures_an_approved_card_in_the_authorizing_request_with_one_webhook()
    {
        var paymentId = NewId("pay");
        var request = CardRequest(paymentId, "4242424242424242") with { CaptureAtOnce = true };

        var sale = await Provider.AuthorizeAsync(request, default);

        Assert.Equal(ProviderPaymentStatus.Captured, sale.Status);
        // The same key gives the same answer; a capture on top is refused (nothing authorized is left to capture).
        Assert.Equal(sale, await Provider.AuthorizeAsync(request, default));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Provider.CaptureAsync(sale.ProviderPaymentId!, new Money(2500, "EUR"), NewId("cap"), default));
        var refund = await Provider.RefundAsync(sale.ProviderPaymentId!, "refund-all", new Money(2500, "EUR"), NewId("ref"), default);
        Assert.Equal(RefundOutcomeStatus.Succeeded, refund.Status);
        var events = await WaitForEventAsync(paymentId, e => e.RefundId == "refund-all");
        Assert.Equal([ProviderPaymentStatus.Captured], events.Where(e => e.RefundId is null).Select(e => e.Outcome.Status).Distinct());
        Assert.Equal(2, events.Select(e => e.EventId).Distinct().Count());
        // A declined card is declined the same way, captured or not.
        var declined = await Provider.AuthorizeAsync(CardRequest(NewId("pay"), "4000000000000002") with { CaptureAtOnce = true }, default);
        Assert.Equal((ProviderPaymentStatus.Declined, "card_declined"), (declined.Status, declined.DeclineCode));
    }

    [Fact]
    public async Task Automatic_capture_of_a_3ds_card_captures_when_the_challenge_passes()
    {
        var paymentId = NewId("pay");
        var outcome = await Provider.AuthorizeAsync(CardRequest(paymentId, "4000000000003220") with { CaptureAtOnce = true }, default);
        Assert.Equal(ProviderPaymentStatus.RequiresAction, outcome.Status);

        using var buyer = SandboxClient();
        var (answer, body) = await buyer.PostJsonAsync(outcome.ActionUrl!, new { result = "pass" });

        Assert.Equal(HttpStatusCode.OK, answer);
        Assert.Equal("captured", body!["status"]!.GetValue<string>(), ignoreCase: true);
        Assert.Equal(2500, body["capturedMinor"]!.GetValue<long>());
        Assert.Equal(ProviderPaymentStatus.Captured, (await Provider.LookupAsync(paymentId, default))!.Status);
    }

    [Fact]
    public async Task An_unknown_capture_method_is_refused_with_a_problem_naming_the_field()
    {
        using var merchant = SandboxClient();
        var (status, problem) = await merchant.PostJsonAsync("/sandbox/psp/v1/payments", new
        {
            reference = NewId("pay"),
            amount = new { amountMinor = 2500, currency = "EUR" },
            instrument = new { type = "card", cardBin = "424242", cardLast4 = "4242" },
            captureMethod = "later",
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("manual", problem!["errors"]!["captureMethod"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Other_cards_wallets_and_instalments_are_authorized()
    {
        var mastercard = await Provider.AuthorizeAsync(CardRequest(NewId("pay"), "5555555555554444"), default);
        var anyCard = await Provider.AuthorizeAsync(CardRequest(NewId("pay"), "4000056655665556"), default);
        var wallet = await Provider.AuthorizeAsync(new ProviderAuthorizeRequest(NewId("pay"), NewId("idem"), new Money(900, "USD"),
            new PaymentInstrument(PaymentMethodType.Wallet, WalletAccount: "wallet_buyer_7")), default);
        var instalments = await Provider.AuthorizeAsync(new ProviderAuthorizeRequest(NewId("pay"), NewId("idem"), new Money(120000, "BRL"),
            new PaymentInstrument(PaymentMethodType.Instalments, "tok", "424242", "4242", InstalmentCount: 6)), default);

        Assert.All([mastercard, anyCard, wallet, instalments], o => Assert.Equal(ProviderPaymentStatus.Authorized, o.Status));
        Assert.Equal(ProviderPaymentStatus.Captured, (await Provider.CaptureAsync(instalments.ProviderPaymentId!, new Money(120000, "BRL"), NewId("cap"), default)).Status);
    }

    [Theory]
    [InlineData("4000000000000002", "card_declined")]
    [InlineData("4000000000009995", "insufficient_funds")]
    public async Task Decline_cards_are_declined_with_their_code(string number, string declineCode)
    {
        var paymentId = NewId("pay");
        var outcome = await Provider.AuthorizeAsync(CardRequest(paymentId, number), default);

        Assert.Equal((ProviderPaymentStatus.Declined, declineCode), (outcome.Status, outcome.DeclineCode));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Provider.CaptureAsync(outcome.ProviderPaymentId!, new Money(2500, "EUR"), NewId("cap"), default));
        Assert.Contains(await WaitForEventAsync(paymentId, e => e.Outcome.Status == ProviderPaymentStatus.Declined), e => e.Outcome.DeclineCode == declineCode);
    }

    [Fact]
    public async Task A_declined_wallet_is_declined()
    {
        var outcome = await Provider.AuthorizeAsync(new ProviderAuthorizeRequest(NewId("pay"), NewId("idem"), new Money(900, "USD"),
            new PaymentInstrument(PaymentMethodType.Wallet, WalletAccount: "wallet_declined_1")), default);

        Assert.Equal((ProviderPaymentStatus.Declined, "wallet_declined"), (outcome.Status, outcome.DeclineCode));
    }

    [Theory]
    [InlineData("pass", ProviderPaymentStatus.Authorized, null)]
    [InlineData("fail", ProviderPaymentStatus.Declined, "authentication_failed")]
    public async Task A_3ds_card_requires_a_challenge_whose_result_arrives_by_webhook(string result, ProviderPaymentStatus status, string? declineCode)
    {
        var paymentId = NewId("pay");
        var outcome = await Provider.AuthorizeAsync(CardRequest(paymentId, "4000000000003220"), default);
        Assert.Equal(ProviderPaymentStatus.RequiresAction, outcome.Status);
        Assert.Equal($"{fixture.Silo.BaseAddress}sandbox/psp/v1/challenges/{outcome.ProviderPaymentId}", outcome.ActionUrl);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Provider.CaptureAsync(outcome.ProviderPaymentId!, new Money(2500, "EUR"), NewId("cap"), default));

        using var buyer = SandboxClient();
        var (answer, body) = await buyer.PostJsonAsync(outcome.ActionUrl!, new { result });
        Assert.Equal(HttpStatusCode.OK, answer);
        Assert.Equal(status.ToString(), body!["status"]!.GetValue<string>(), ignoreCase: true);
        // Completing it twice the same way is harmless; the other way is a conflict.
        Assert.Equal(HttpStatusCode.OK, (await buyer.PostJsonAsync(outcome.ActionUrl!, new { result })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await buyer.PostJsonAsync(outcome.ActionUrl!, new { result = result == "pass" ? "fail" : "pass" })).Status);

        var events = await WaitForEventAsync(paymentId, e => e.Outcome.Status == status);
        Assert.Contains(events, e => e.Outcome.Status == ProviderPaymentStatus.RequiresAction);
        Assert.Equal(declineCode, events.Single(e => e.Outcome.Status == status).Outcome.DeclineCode);
        Assert.Equal(status, (await Provider.LookupAsync(paymentId, default))!.Status);
    }

    [Fact]
    public async Task A_slow_answer_times_out_but_the_payment_is_recorded_once_and_a_retry_gets_it()
    {
        var paymentId = NewId("pay");
        var request = CardRequest(paymentId, "4000000000000119");

        await Assert.ThrowsAsync<PaymentProviderUnavailableException>(() => Provider.AuthorizeAsync(request, default));
        // While the first request is still being answered, a retry is told so (409 in progress) and gives up as unavailable.
        await Assert.ThrowsAsync<PaymentProviderUnavailableException>(() => Provider.AuthorizeAsync(request, default));
        Assert.Equal(ProviderPaymentStatus.Authorized, (await Provider.LookupAsync(paymentId, default))!.Status);

        var events = await WaitForEventAsync(paymentId, e => e.Outcome.Status == ProviderPaymentStatus.Authorized);
        var retried = await Provider.AuthorizeAsync(request, default);

        Assert.Equal(ProviderPaymentStatus.Authorized, retried.Status);
        Assert.Equal(SandboxIds.ProviderPaymentId(paymentId), retried.ProviderPaymentId);
        Assert.Equal(events.Single().Outcome.ProviderPaymentId, retried.ProviderPaymentId);
        await Task.Delay(500);
        Assert.Single((await WaitForEventAsync(paymentId, _ => true)).Select(e => e.EventId).Distinct());
    }

    [Fact]
    public async Task An_idempotency_key_returns_its_first_answer_and_refuses_a_different_request()
    {
        var paymentId = NewId("pay");
        var request = CardRequest(paymentId, "4242424242424242", key: NewId("idem"));
        var first = await Provider.AuthorizeAsync(request, default);

        Assert.Equal(first, await Provider.AuthorizeAsync(request, default));
        var changed = await Assert.ThrowsAsync<InvalidOperationException>(() => Provider.AuthorizeAsync(request with { Amount = new Money(2600, "EUR") }, default));
        Assert.Contains("Idempotency-Key was already used", changed.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Provider.AuthorizeAsync(request with { PaymentId = NewId("pay") }, default));
        // A second authorization of the same reference under a new key is refused too: one reference, one payment.
        await Assert.ThrowsAsync<InvalidOperationException>(() => Provider.AuthorizeAsync(request with { IdempotencyKey = NewId("idem") }, default));

        var captureKey = NewId("cap");
        var captured = await Provider.CaptureAsync(first.ProviderPaymentId!, new Money(2500, "EUR"), captureKey, default);
        Assert.Equal(captured, await Provider.CaptureAsync(first.ProviderPaymentId!, new Money(2500, "EUR"), captureKey, default));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Provider.CaptureAsync(first.ProviderPaymentId!, new Money(2000, "EUR"), captureKey, default));
    }

    [Fact]
    public async Task A_bank_transfer_is_captured_when_the_money_arrives_and_expires_after_its_pay_by_time()
    {
        using var bank = SandboxClient();
        var paid = NewId("pay");
        var awaiting = await Provider.AuthorizeAsync(new ProviderAuthorizeRequest(paid, NewId("idem"), new Money(50000, "JPY"),
            new PaymentInstrument(PaymentMethodType.BankTransfer), DateTimeOffset.UtcNow.AddHours(1)), default);
        Assert.Equal(ProviderPaymentStatus.AwaitingTransfer, awaiting.Status);
        Assert.Matches("^ST[A-Z2-9]{8}$", awaiting.TransferReference);

        var typed = awaiting.TransferReference!.ToLowerInvariant().Insert(6, "-");
        var (received, body) = await bank.PostJsonAsync($"/sandbox/psp/v1/bank-transfers/{typed}/receive", new { });
        Assert.Equal(HttpStatusCode.OK, received);
        Assert.Equal("captured", body!["status"]!.GetValue<string>());
        await WaitForEventAsync(paid, e => e.Outcome.Status == ProviderPaymentStatus.Captured);

        var late = NewId("pay");
        var expiring = await Provider.AuthorizeAsync(new ProviderAuthorizeRequest(late, NewId("idem"), new Money(50000, "JPY"),
            new PaymentInstrument(PaymentMethodType.BankTransfer), DateTimeOffset.UtcNow.AddSeconds(1.5)), default);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var (tooLate, problem) = await bank.PostJsonAsync($"/sandbox/psp/v1/bank-transfers/{expiring.TransferReference}/receive", new { });
        Assert.Equal(HttpStatusCode.Conflict, tooLate);
        Assert.Contains("expired", problem!["detail"]!.GetValue<string>());
        Assert.Equal(ProviderPaymentStatus.Expired, (await Provider.LookupAsync(late, default))!.Status);
        await WaitForEventAsync(late, e => e.Outcome.Status == ProviderPaymentStatus.Expired);

        var voided = await Provider.AuthorizeAsync(new ProviderAuthorizeRequest(NewId("pay"), NewId("idem"), new Money(50000, "JPY"),
            new PaymentInstrument(PaymentMethodType.BankTransfer)), default);
        Assert.Equal(ProviderPaymentStatus.Voided, (await Provider.VoidAsync(voided.ProviderPaymentId!, NewId("void"), default)).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await bank.PostJsonAsync($"/sandbox/psp/v1/bank-transfers/{voided.TransferReference}/receive", new { })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await bank.PostJsonAsync("/sandbox/psp/v1/bank-transfers/ST00000000/receive", new { })).Status);
    }

    [Fact]
    public async Task A_forged_or_replayed_webhook_is_refused_and_the_sandbox_needs_its_key()
    {
        var paymentId = NewId("pay");
        await Provider.AuthorizeAsync(CardRequest(paymentId, "4242424242424242"), default);
        await WaitForEventAsync(paymentId, _ => true);
        var genuine = fixture.Receiver.RawAttempts.First(a => a.Status == 200);
        var signature = genuine.Headers.First(h => h.Key.Equals(SandboxSignature.HeaderName, StringComparison.OrdinalIgnoreCase)).Value;

        var tampered = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(genuine.RawBody).Replace("\"status\":\"", "\"status\":\"x"));
        Assert.NotEqual(genuine.RawBody, tampered);
        Assert.Throws<InvalidWebhookException>(() => Provider.ParseWebhook(genuine.Headers, tampered));
        var guessed = new Dictionary<string, string> { [SandboxSignature.HeaderName] = SandboxSignature.Sign("not-the-secret", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), genuine.RawBody) };
        Assert.Throws<InvalidWebhookException>(() => Provider.ParseWebhook(guessed, genuine.RawBody));
        var stale = new Dictionary<string, string> { [SandboxSignature.HeaderName] = SandboxSignature.Sign(SandboxPspFixture.WebhookSecret, DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds(), genuine.RawBody) };
        Assert.Throws<InvalidWebhookException>(() => Provider.ParseWebhook(stale, genuine.RawBody));
        Assert.StartsWith("t=", signature);

        using var anonymous = fixture.Silo.CreateClient(apiKey: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}")).Status);
        var wrongKey = new SandboxPaymentProvider(new HttpClient(), new SandboxPspOptions { BaseUrl = fixture.Silo.BaseAddress, ApiKey = "wrong" });
        await Assert.ThrowsAsync<InvalidOperationException>(() => wrongKey.LookupAsync(paymentId, default));
    }
}
