using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Trade.Common;

namespace Orleans.Trade.Payments.Sandbox;

/// <summary>An answer kept for an idempotency key; a repeat before <see cref="AnswerableAt"/> is told the request is still running.</summary>
[GenerateSerializer, Immutable]
public sealed record SandboxStoredAnswer(
    [property: Id(0)] SandboxAnswer Answer,
    [property: Id(1)] DateTimeOffset AnswerableAt);

/// <summary>A webhook event not yet acknowledged by the receiver (the outbox).</summary>
[GenerateSerializer, Immutable]
public sealed record SandboxPendingWebhook(
    [property: Id(0)] string EventId,
    [property: Id(1)] string Body,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] int Attempts,
    [property: Id(4)] DateTimeOffset NextAttemptAt);

/// <summary>Persistent state of a sandbox payment (state name <c>sandboxPspPayment</c>).</summary>
[GenerateSerializer]
public sealed class SandboxPspPaymentState : IWakeAtState
{
    /// <summary>
    /// The deadline index entry, written with every change: the next webhook attempt while events are pending, else the pay-by
    /// time of an awaited transfer. The live activation delivers and expires by itself; the index brings it back after a restart.
    /// </summary>
    public DateTimeOffset? WakeAt =>
        Outbox.Count > 0 ? Outbox.Min(e => e.NextAttemptAt)
        : Payment is { Status: ProviderPaymentStatus.AwaitingTransfer, PayBy: { } payBy } ? payBy
        : null;

    [Id(0)] public SandboxPaymentView? Payment { get; set; }
    [Id(1)] public Dictionary<string, SandboxStoredAnswer> Answers { get; set; } = [];
    [Id(2)] public List<SandboxRefundView> Refunds { get; set; } = [];
    [Id(3)] public List<SandboxPendingWebhook> Outbox { get; set; } = [];
    /// <summary>The 3-D Secure result, once the challenge was completed.</summary>
    [Id(4)] public bool? ChallengePassed { get; set; }
    /// <summary>Asked for automatic capture: the payment is captured as soon as it is authorized (here: when its challenge passes).</summary>
    [Id(5)] public bool CaptureOnAuthorization { get; set; }
}

/// <summary>
/// A payment at the sandbox provider, keyed by the merchant's reference. Each change is written together with its webhook
/// event (an outbox), which a timer delivers at least once with exponential backoff; the deadline index (see
/// <see cref="SandboxPspPaymentState.WakeAt"/>) brings the grain back after a restart while events are pending or a bank transfer
/// is awaited, at no cost beyond the write each change makes anyway.
/// </summary>
public sealed class SandboxPspPaymentGrain(
    [PersistentState(stateName: SandboxPspPaymentGrain.StateName, storageName: StorageNames.Trade)] IPersistentState<SandboxPspPaymentState> state,
    SandboxWebhookSender webhooks,
    IOptions<SandboxPspOptions> options,
    TradeClock clock,
    WakeIndexMover wakes,
    ILogger<SandboxPspPaymentGrain> logger) : Grain, ISandboxPspPaymentGrain, IWakeableGrain, IRemindable
{
    public const string StateName = "sandboxPspPayment";

    /// <summary>The reminder earlier versions registered per payment; one that still exists is dropped when it ticks.</summary>
    private const string HousekeepingReminder = "sandbox-housekeeping";
    private const int MaxStoredAnswers = 256;
    private const int MaxRefunds = 100;
    private const int MaxOutbox = 256;
    private const int MaxDeliveriesPerTick = 16;
    private const string TransferAlphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789";
    private static readonly TimeSpan DeliveryTick = TimeSpan.FromMilliseconds(250);
    private readonly SandboxPspOptions _options = options.Value;
    private IGrainTimer? _delivery;
    /// <summary>True while a change is being written: its event is not sent before the write is acknowledged.</summary>
    private bool _writing;

    private string Reference => this.GetPrimaryKeyString();
    private SandboxPspPaymentState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Outbox.Count > 0)
        {
            ArmDelivery();
        }
        return Task.CompletedTask;
    }

    public async Task<SandboxAnswer> Authorize(string idempotencyKey, SandboxAuthorizeCommand command)
    {
        if (Replay(idempotencyKey) is { } replay)
        {
            return replay;
        }
        if (S.Payment is { } existing)
        {
            return Unprocessable($"Reference '{Reference}' already has payment {existing.ProviderPaymentId}, created under another Idempotency-Key.");
        }
        var now = clock.GetUtcNow();
        var providerPaymentId = SandboxIds.ProviderPaymentId(Reference);
        var (behaviour, declineCode) = SandboxTestCards.Decide(command.Instrument);
        var payment = new SandboxPaymentView(providerPaymentId, Reference, ProviderPaymentStatus.Authorized, command.Amount, command.Instrument.Type!.Value,
            0, 0, null, null, null, null, null, now, now);
        payment = behaviour switch
        {
            SandboxBehaviour.Approve or SandboxBehaviour.ApproveSlowly when command.CaptureAtOnce =>
                payment with { Status = ProviderPaymentStatus.Captured, CapturedMinor = command.Amount.AmountMinor },
            SandboxBehaviour.Approve or SandboxBehaviour.ApproveSlowly => payment,
            SandboxBehaviour.Decline => payment with { Status = ProviderPaymentStatus.Declined, DeclineCode = declineCode, Message = DeclineMessage(declineCode) },
            SandboxBehaviour.Challenge => payment with
            {
                Status = ProviderPaymentStatus.RequiresAction,
                ActionUrl = $"{command.PublicBaseUrl.TrimEnd('/')}/sandbox/psp/v1/challenges/{providerPaymentId}",
                Message = "3-D Secure: the buyer must complete the challenge.",
            },
            SandboxBehaviour.AwaitTransfer => payment with
            {
                Status = ProviderPaymentStatus.AwaitingTransfer,
                TransferReference = await BindTransferReference(),
                PayBy = command.PayBy ?? now + _options.DefaultTransferWindow,
            },
            _ => throw new InvalidOperationException($"Unknown sandbox behaviour {behaviour}."),
        };
        S.CaptureOnAuthorization = command.CaptureAtOnce && payment.Status == ProviderPaymentStatus.RequiresAction;
        // The slow card is recorded now; its answer (and its webhook) wait, as a provider that is slow to respond.
        var delay = behaviour == SandboxBehaviour.ApproveSlowly ? _options.SlowResponseDelay : TimeSpan.Zero;
        var answer = await Commit(payment, idempotencyKey, null, delay);
        return answer with { AnswerAfter = delay };
    }

    public async Task<SandboxAnswer> Capture(string idempotencyKey, Money amount)
    {
        await ExpireIfDue();
        if (Replay(idempotencyKey) is { } replay)
        {
            return replay;
        }
        if (Refusal(idempotencyKey) is { } refused)
        {
            return refused;
        }
        var p = S.Payment!;
        if (p.Status != ProviderPaymentStatus.Authorized)
        {
            return Conflict(p, $"Payment {p.ProviderPaymentId} is {p.Status}; only an authorized payment can be captured.");
        }
        if (amount.Currency != p.Amount.Currency || amount.AmountMinor <= 0 || amount.AmountMinor > p.Amount.AmountMinor)
        {
            return Unprocessable($"The capture must be 1 to {p.Amount.AmountMinor} {p.Amount.Currency} minor units; got {amount.AmountMinor} {amount.Currency}.");
        }
        return await Commit(p with { Status = ProviderPaymentStatus.Captured, CapturedMinor = amount.AmountMinor }, idempotencyKey, null, TimeSpan.Zero);
    }

    public async Task<SandboxAnswer> Void(string idempotencyKey)
    {
        await ExpireIfDue();
        if (Replay(idempotencyKey) is { } replay)
        {
            return replay;
        }
        if (Refusal(idempotencyKey) is { } refused)
        {
            return refused;
        }
        var p = S.Payment!;
        if (p.Status is not (ProviderPaymentStatus.Authorized or ProviderPaymentStatus.AwaitingTransfer or ProviderPaymentStatus.RequiresAction))
        {
            return Conflict(p, $"Payment {p.ProviderPaymentId} is {p.Status}; only an authorized, awaiting-transfer or requires-action payment can be voided.");
        }
        return await Commit(p with { Status = ProviderPaymentStatus.Voided, ActionUrl = null }, idempotencyKey, null, TimeSpan.Zero);
    }

    public async Task<SandboxAnswer> Refund(string idempotencyKey, string refundId, Money amount)
    {
        if (Replay(idempotencyKey) is { } replay)
        {
            return replay;
        }
        if (Refusal(idempotencyKey) is { } refused)
        {
            return refused;
        }
        var p = S.Payment!;
        if (S.Refunds.Find(r => r.RefundId == refundId) is { } earlier)
        {
            return earlier.Amount == amount
                ? new SandboxAnswer(SandboxAnswerKind.Ok, p, earlier)
                : Unprocessable($"Refund '{refundId}' was already made for {earlier.Amount.AmountMinor} {earlier.Amount.Currency}.");
        }
        if (p.Status != ProviderPaymentStatus.Captured)
        {
            return Conflict(p, $"Payment {p.ProviderPaymentId} is {p.Status}; only a captured payment can be refunded.");
        }
        if (amount.Currency != p.Amount.Currency || amount.AmountMinor <= 0 || p.RefundedMinor + amount.AmountMinor > p.CapturedMinor)
        {
            return Unprocessable($"Refunds may total at most the captured {p.CapturedMinor} {p.Amount.Currency} minor units; " +
                $"{p.RefundedMinor} are refunded and {amount.AmountMinor} {amount.Currency} more were asked.");
        }
        if (S.Refunds.Count >= MaxRefunds)
        {
            return Unprocessable($"A payment takes at most {MaxRefunds} refunds.");
        }
        var refund = new SandboxRefundView(refundId, "re_" + Ulid.NewUlid(), RefundOutcomeStatus.Succeeded, amount, clock.GetUtcNow());
        S.Refunds.Add(refund);
        return await Commit(p with { RefundedMinor = p.RefundedMinor + amount.AmountMinor }, idempotencyKey, refund, TimeSpan.Zero);
    }

    public async Task<SandboxAnswer> CompleteChallenge(bool passed)
    {
        if (S.Payment is not { } p)
        {
            return NotFound();
        }
        if (p.Status != ProviderPaymentStatus.RequiresAction)
        {
            return S.ChallengePassed == passed
                ? new SandboxAnswer(SandboxAnswerKind.Ok, p)
                : Conflict(p, $"Payment {p.ProviderPaymentId} is {p.Status}; it has no open 3-D Secure challenge.");
        }
        S.ChallengePassed = passed;
        var next = passed && S.CaptureOnAuthorization
            ? p with { Status = ProviderPaymentStatus.Captured, CapturedMinor = p.Amount.AmountMinor, ActionUrl = null, Message = null }
            : passed
            ? p with { Status = ProviderPaymentStatus.Authorized, ActionUrl = null, Message = null }
            : p with
            {
                Status = ProviderPaymentStatus.Declined, ActionUrl = null,
                DeclineCode = SandboxTestCards.AuthenticationFailed, Message = DeclineMessage(SandboxTestCards.AuthenticationFailed),
            };
        return await Commit(next, null, null, TimeSpan.Zero);
    }

    public async Task<SandboxAnswer> ReceiveTransfer()
    {
        await ExpireIfDue();
        if (S.Payment is not { } p)
        {
            return NotFound();
        }
        return p.Status switch
        {
            ProviderPaymentStatus.AwaitingTransfer =>
                await Commit(p with { Status = ProviderPaymentStatus.Captured, CapturedMinor = p.Amount.AmountMinor }, null, null, TimeSpan.Zero),
            ProviderPaymentStatus.Captured => new SandboxAnswer(SandboxAnswerKind.Ok, p),
            ProviderPaymentStatus.Expired => Conflict(p, $"Transfer reference {p.TransferReference} expired at {p.PayBy:O}; the money is returned to the payer."),
            _ => Conflict(p, $"Payment {p.ProviderPaymentId} is {p.Status}; it awaits no transfer."),
        };
    }

    public async Task<SandboxPaymentView?> Get()
    {
        await ExpireIfDue();
        return S.Payment;
    }

    public async Task RecordDeliveries(string[] delivered, string[] failed)
    {
        var now = clock.GetUtcNow();
        // Delivered events leave memory now and storage with the next write: webhooks are at least once, so one delivered again
        // after a restart is harmless (receivers drop it by event id), and the common case (all delivered) costs no write.
        S.Outbox.RemoveAll(e => delivered.Contains(e.EventId));
        var changed = false;
        for (var i = S.Outbox.Count - 1; i >= 0; i--)
        {
            var e = S.Outbox[i];
            if (!failed.Contains(e.EventId))
            {
                continue;
            }
            changed = true;
            if (now - e.CreatedAt > _options.WebhookGiveUpAfter)
            {
                logger.LogWarning("Sandbox webhook {EventId} of {Reference} was not accepted within {GiveUpAfter}; dropped", e.EventId, Reference, _options.WebhookGiveUpAfter);
                S.Outbox.RemoveAt(i);
                continue;
            }
            S.Outbox[i] = e with { Attempts = e.Attempts + 1, NextAttemptAt = now + _options.WebhookBackoff(e.Attempts) };
        }
        if (changed)
        {
            await state.WriteOrReloadAsync(this);
        }
        else if (S.Outbox.Count == 0)
        {
            // All out: the row's wake time (the first delivery attempt) moves to what is left to wake for, with no write.
            wakes.Move(StateName, this.GetGrainId(), state.Etag, S.WakeAt);
            // A payment settled for good, its events delivered, waits for nothing: a later refund or lookup meets one state read
            // (held for its idle age instead, a flash sale kept every sandbox payment in the heap half a minute).
            if (S.Payment is { Status: ProviderPaymentStatus.Captured or ProviderPaymentStatus.Declined or ProviderPaymentStatus.Voided
                or ProviderPaymentStatus.Expired })
            {
                DeactivateOnIdle();
            }
        }
    }

    public async Task<WakeAnswer> WakeUp()
    {
        await ExpireIfDue();
        if (S.Outbox.Count > 0)
        {
            ArmDelivery();
        }
        return new WakeAnswer(state.Etag, S.WakeAt);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == HousekeepingReminder && await this.GetReminder(HousekeepingReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
        await WakeUp();
    }

    // ---------------------------------------------------------------- helpers

    private SandboxAnswer? Replay(string idempotencyKey)
    {
        if (!S.Answers.TryGetValue(idempotencyKey, out var stored))
        {
            return null;
        }
        return clock.GetUtcNow() < stored.AnswerableAt
            ? new SandboxAnswer(SandboxAnswerKind.InProgress, null, Detail: "A request with this Idempotency-Key is still being processed; retry shortly.")
            : stored.Answer;
    }

    /// <summary>Why a follow-up request (capture, void, refund) cannot even be considered, or null.</summary>
    private SandboxAnswer? Refusal(string idempotencyKey) =>
        S.Payment is null ? NotFound()
        : S.Answers.Count >= MaxStoredAnswers && !S.Answers.ContainsKey(idempotencyKey)
            ? Unprocessable($"A payment takes at most {MaxStoredAnswers} requests.")
            : null;

    private async Task ExpireIfDue()
    {
        if (S.Payment is { Status: ProviderPaymentStatus.AwaitingTransfer, PayBy: { } payBy } p && clock.GetUtcNow() > payBy)
        {
            await Commit(p with { Status = ProviderPaymentStatus.Expired, Message = "No transfer arrived by the pay-by time." }, null, null, TimeSpan.Zero);
        }
    }

    /// <summary>Records the new state, the answer for the idempotency key and the webhook event in one write.</summary>
    private async Task<SandboxAnswer> Commit(SandboxPaymentView payment, string? idempotencyKey, SandboxRefundView? refund, TimeSpan delay)
    {
        var now = clock.GetUtcNow();
        payment = payment with { UpdatedAt = now };
        var answer = new SandboxAnswer(SandboxAnswerKind.Ok, payment, refund);
        S.Payment = payment;
        if (idempotencyKey is not null)
        {
            S.Answers[idempotencyKey] = new SandboxStoredAnswer(answer, now + delay);
        }
        var eventId = "evt_" + Ulid.NewUlid();
        var type = refund is not null ? "refund." + JsonNamingPolicy.CamelCase.ConvertName(refund.Status.ToString())
            : "payment." + JsonNamingPolicy.CamelCase.ConvertName(payment.Status.ToString());
        var body = JsonSerializer.Serialize(new SandboxWebhookEvent(eventId, type, now, payment, refund), SandboxJson.Options);
        if (S.Outbox.Count >= MaxOutbox)
        {
            logger.LogWarning("Sandbox outbox of {Reference} is full; dropping undelivered event {EventId}", Reference, S.Outbox[0].EventId);
            S.Outbox.RemoveAt(0);
        }
        S.Outbox.Add(new SandboxPendingWebhook(eventId, body, now, 0, now + delay));
        _writing = true;
        try
        {
            await state.WriteOrReloadAsync(this);
        }
        finally
        {
            _writing = false;
        }
        ArmDelivery();
        return answer;
    }

    private async Task<string> BindTransferReference()
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var code = "ST" + RandomNumberGenerator.GetString(TransferAlphabet, 8);
            if (await GrainFactory.GetGrain<ISandboxPspTransferGrain>(code).Bind(Reference) == Reference)
            {
                return code;
            }
        }
        throw new InvalidOperationException("No free bank-transfer reference after 8 attempts.");
    }

    private void ArmDelivery()
    {
        // Interleaving: the HTTP POST must not hold this grain's turn, since the receiver may call back (a lookup) while it runs.
        _delivery ??= this.RegisterGrainTimer(static (grain, _) => grain.DeliverDue(), this,
            new GrainTimerCreationOptions { DueTime = TimeSpan.Zero, Period = DeliveryTick, Interleave = true });
    }

    private async Task DeliverDue()
    {
        if (S.Outbox.Count == 0)
        {
            _delivery?.Dispose();
            _delivery = null;
            return;
        }
        if (_writing)
        {
            return;
        }
        var now = clock.GetUtcNow();
        var due = S.Outbox.Where(e => e.NextAttemptAt <= now).Take(MaxDeliveriesPerTick).ToArray();
        if (due.Length == 0)
        {
            return;
        }
        var delivered = new List<string>();
        var failed = new List<string>();
        foreach (var e in due)
        {
            (await webhooks.SendAsync(e.EventId, e.Body) ? delivered : failed).Add(e.EventId);
        }
        // State changes go through a regular (non-interleaved) call, so they never overlap another request's write.
        await this.AsReference<ISandboxPspPaymentGrain>().RecordDeliveries([.. delivered], [.. failed]);
    }

    private static string? DeclineMessage(string? code) => code switch
    {
        SandboxTestCards.CardDeclined => "The card was declined.",
        SandboxTestCards.InsufficientFunds => "The card has insufficient funds.",
        SandboxTestCards.WalletDeclined => "The wallet declined the payment.",
        SandboxTestCards.AuthenticationFailed => "3-D Secure authentication failed.",
        _ => null,
    };

    private SandboxAnswer NotFound() => new(SandboxAnswerKind.NotFound, null, Detail: $"No sandbox payment has reference '{Reference}'.");

    private static SandboxAnswer Conflict(SandboxPaymentView p, string detail) => new(SandboxAnswerKind.Conflict, p, Detail: detail);

    private static SandboxAnswer Unprocessable(string detail) => new(SandboxAnswerKind.Unprocessable, null, Detail: detail);
}
