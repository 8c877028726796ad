using System.Text;
using Orleans.Trade.Payments;
using Orleans.Trade.Payments.Sandbox;

namespace Orleans.Trade.Tests.Payments;

public sealed class SandboxSignatureTests
{
    private const string Secret = "whsec-test";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"eventId\":\"evt_1\"}");
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    [Fact]
    public void A_signature_made_with_the_secret_verifies()
    {
        var header = SandboxSignature.Sign(Secret, Now.ToUnixTimeSeconds(), Body);

        Assert.Matches("^t=1800000000,v1=[0-9a-f]{64}$", header);
        Assert.Null(SandboxSignature.Verify(Secret, header, Body, Now.AddMinutes(4)));
    }

    [Fact]
    public void A_changed_body_another_secret_or_a_malformed_header_is_refused()
    {
        var header = SandboxSignature.Sign(Secret, Now.ToUnixTimeSeconds(), Body);
        var changed = Encoding.UTF8.GetBytes("{\"eventId\":\"evt_2\"}");

        Assert.NotNull(SandboxSignature.Verify(Secret, header, changed, Now));
        Assert.NotNull(SandboxSignature.Verify("other-secret", header, Body, Now));
        Assert.NotNull(SandboxSignature.Verify(Secret, null, Body, Now));
        Assert.NotNull(SandboxSignature.Verify(Secret, "v1=" + new string('0', 64), Body, Now));
        Assert.NotNull(SandboxSignature.Verify(Secret, header.Replace("v1=", "v1=zz"), Body, Now));
        Assert.NotNull(SandboxSignature.Verify(Secret, "garbage", Body, Now));
    }

    [Fact]
    public void A_signature_older_or_newer_than_five_minutes_is_refused()
    {
        var header = SandboxSignature.Sign(Secret, Now.ToUnixTimeSeconds(), Body);

        Assert.Contains("5 minutes", SandboxSignature.Verify(Secret, header, Body, Now.AddMinutes(6)));
        Assert.Contains("5 minutes", SandboxSignature.Verify(Secret, header, Body, Now.AddMinutes(-6)));
    }

    [Fact]
    public void One_valid_signature_among_several_is_enough_for_secret_rotation()
    {
        var header = SandboxSignature.Sign(Secret, Now.ToUnixTimeSeconds(), Body);
        var rotated = header.Replace("v1=", "v1=" + new string('a', 64) + ",v1=");

        Assert.Null(SandboxSignature.Verify(Secret, rotated, Body, Now));
    }

    [Fact]
    public void The_adapter_refuses_a_forged_webhook_and_parses_a_genuine_one()
    {
        var options = new SandboxPspOptions { WebhookSecret = Secret, BaseUrl = new Uri("http://127.0.0.1:1/") };
        var adapter = new SandboxPaymentProvider(new HttpClient(), options);
        var body = Encoding.UTF8.GetBytes("""
            {"eventId":"evt_9","type":"payment.authorized","createdAt":"2026-01-01T00:00:00Z",
             "payment":{"providerPaymentId":"psp_x","reference":"pay-9","status":"authorized","amount":{"amountMinor":100,"currency":"USD"},
                        "method":"card","capturedMinor":0,"refundedMinor":0,"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}}
            """);
        var genuine = new Dictionary<string, string> { ["sandbox-signature"] = SandboxSignature.Sign(Secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body) };
        var forged = new Dictionary<string, string> { ["Sandbox-Signature"] = SandboxSignature.Sign("guessed", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body) };

        var e = adapter.ParseWebhook(genuine, body);

        Assert.Equal(("evt_9", "pay-9", ProviderPaymentStatus.Authorized, "psp_x"), (e.EventId, e.PaymentId, e.Outcome.Status, e.Outcome.ProviderPaymentId));
        Assert.Throws<InvalidWebhookException>(() => adapter.ParseWebhook(forged, body));
        Assert.Throws<InvalidWebhookException>(() => adapter.ParseWebhook(new Dictionary<string, string>(), body));
    }
}

public sealed class SandboxTestCardsTests
{
    private static SandboxInstrument Card(string number, PaymentMethodType type = PaymentMethodType.Card) =>
        new(type, number[..6], number[^4..], InstalmentCount: type == PaymentMethodType.Instalments ? 3 : null);

    [Theory]
    [InlineData("4242424242424242", SandboxBehaviour.Approve, null)]
    [InlineData("5555555555554444", SandboxBehaviour.Approve, null)]
    [InlineData("4000000000000002", SandboxBehaviour.Decline, "card_declined")]
    [InlineData("4000000000009995", SandboxBehaviour.Decline, "insufficient_funds")]
    [InlineData("4000000000003220", SandboxBehaviour.Challenge, null)]
    [InlineData("4000000000000119", SandboxBehaviour.ApproveSlowly, null)]
    [InlineData("4000056655665556", SandboxBehaviour.Approve, null)]
    [InlineData("4000000000000010", SandboxBehaviour.Approve, null)]
    public void Cards_are_decided_by_bin_and_last_four(string number, SandboxBehaviour behaviour, string? declineCode)
    {
        Assert.Equal((behaviour, declineCode), SandboxTestCards.Decide(Card(number)));
        Assert.Equal((behaviour, declineCode), SandboxTestCards.Decide(Card(number, PaymentMethodType.Instalments)));
    }

    [Fact]
    public void Every_documented_card_is_a_valid_card_number()
    {
        foreach (var card in SandboxTestCards.All)
        {
            Assert.True(CardNumber.TryParse(card.Number, out _, out var reason), $"{card.Number}: {reason}");
        }
    }

    [Fact]
    public void Wallets_and_bank_transfers_follow_their_own_rules()
    {
        Assert.Equal((SandboxBehaviour.Decline, "wallet_declined"),
            SandboxTestCards.Decide(new SandboxInstrument(PaymentMethodType.Wallet, WalletAccount: "wallet_declined_42")));
        Assert.Equal((SandboxBehaviour.Approve, (string?)null),
            SandboxTestCards.Decide(new SandboxInstrument(PaymentMethodType.Wallet, WalletAccount: "wallet_ok_1")));
        Assert.Equal((SandboxBehaviour.AwaitTransfer, (string?)null),
            SandboxTestCards.Decide(new SandboxInstrument(PaymentMethodType.BankTransfer)));
    }

    [Theory]
    [InlineData("pay-1")]
    [InlineData("01JDQ9ZK7Y.order_42-x")]
    public void A_provider_payment_id_leads_back_to_its_reference(string reference)
    {
        var id = SandboxIds.ProviderPaymentId(reference);

        Assert.True(SandboxIds.TryReference(id, out var back));
        Assert.Equal(reference, back);
        Assert.False(SandboxIds.TryReference("psp_!!", out _));
        Assert.False(SandboxIds.TryReference("pay-1", out _));
    }
}

public sealed class SandboxWebhookBackoffTests
{
    [Theory]
    [InlineData(1, 600)]        // the defaults: 1 s doubling, at most 10 minutes
    [InlineData(900, 3_600)]    // a 15-minute base: shifted 30 times it passed the range of ticks
    [InlineData(86_400, 604_800)]
    public void The_wait_doubles_from_the_base_and_stays_at_the_most_however_many_attempts_failed(int baseSeconds, int maxSeconds)
    {
        var options = new SandboxPspOptions { WebhookRetryBase = TimeSpan.FromSeconds(baseSeconds), WebhookMaxBackoff = TimeSpan.FromSeconds(maxSeconds) };

        var waits = Enumerable.Range(0, 200).Select(options.WebhookBackoff).ToArray();

        Assert.Equal(TimeSpan.FromSeconds(baseSeconds), waits[0]);
        Assert.Equal(TimeSpan.FromSeconds(Math.Min(2L * baseSeconds, maxSeconds)), waits[1]);
        Assert.All(waits.Skip(1).Zip(waits), pair => Assert.True(pair.First >= pair.Second, $"{pair.First} after {pair.Second}"));
        Assert.All(waits.Skip(40), wait => Assert.Equal(TimeSpan.FromSeconds(maxSeconds), wait));
    }
}
