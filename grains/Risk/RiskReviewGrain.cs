using Microsoft.Extensions.Logging;
using Orleans.Trade.Common;

namespace Orleans.Trade.Risk;

/// <summary>The review queue's read model (implemented by the silo over the database): one row per review plus its audit trail.</summary>
public interface IRiskReviewSink
{
    Task RecordAsync(RiskReviewView review, CancellationToken cancellationToken);
}

/// <summary>Persistent state of a review grain (state name <c>riskReview</c>).</summary>
[GenerateSerializer]
public sealed class RiskReviewState
{
    [Id(0)] public RiskReviewOpening? Opening { get; set; }
    [Id(1)] public RiskReviewStatus Status { get; set; }
    [Id(2)] public string? ClaimedBy { get; set; }
    [Id(3)] public DateTimeOffset? ClaimedAt { get; set; }
    [Id(4)] public string? DecidedBy { get; set; }
    [Id(5)] public DateTimeOffset? DecidedAt { get; set; }
    [Id(6)] public string? DecisionNote { get; set; }
    [Id(7)] public List<RiskReviewAuditEntry> Audit { get; set; } = [];
    /// <summary>Outbox: the queue table and the payment have yet to hear of the latest change.</summary>
    [Id(8)] public bool ProjectionPending { get; set; }
    [Id(9)] public bool PaymentPending { get; set; }
}

public sealed class RiskReviewGrain(
    [PersistentState(stateName: "riskReview", storageName: StorageNames.Trade)] IPersistentState<RiskReviewState> state,
    IRiskReviewSink sink,
    TradeClock clock,
    ILogger<RiskReviewGrain> logger) : Grain, IRiskReviewGrain, IRemindable
{
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromSeconds(2);
    /// <summary>Durable backstop of the retry timer: a decision the payment has not heard of must not wait for the next visit.</summary>
    private const string PublishReminder = "publish";
    /// <summary>The audit action of a decision taken after its order was cancelled, which the payment therefore never carried out.</summary>
    public const string NotActedOn = "NotActedOn";
    private IGrainTimer? _retry;
    private RiskReviewState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.ProjectionPending || S.PaymentPending)
        {
            ScheduleRetry();
        }
        return Task.CompletedTask;
    }

    public async Task<RiskReviewView> Open(RiskReviewOpening opening)
    {
        if (S.Opening is null)
        {
            S.Opening = opening;
            S.Status = RiskReviewStatus.Open;
            S.Audit.Add(new RiskReviewAuditEntry(clock.GetUtcNow(), "system", "Opened", $"score {opening.Score.Score}, model {opening.Score.ModelVersion}"));
            S.ProjectionPending = true;
            await state.WriteOrReloadAsync(this);
            await Publish();
        }
        return View();
    }

    public Task<RiskReviewView?> Get() => Task.FromResult(S.Opening is null ? null : View());

    public async Task<ReviewActionResult> Claim(string actor, bool isAdmin)
    {
        if (S.Opening is null)
        {
            return new ReviewActionResult(ReviewActionStatus.NotFound, null, $"Review '{this.GetPrimaryKeyString()}' does not exist.");
        }
        if (Closed)
        {
            return AlreadyClosed();
        }
        if (S.ClaimedBy == actor)
        {
            return new ReviewActionResult(ReviewActionStatus.Done, View(), null);
        }
        if (S.ClaimedBy is not null && !isAdmin)
        {
            return new ReviewActionResult(ReviewActionStatus.ClaimedByAnother, View(), $"The review is claimed by {S.ClaimedBy}.");
        }
        var now = clock.GetUtcNow();
        S.Audit.Add(new RiskReviewAuditEntry(now, actor, S.ClaimedBy is null ? "Claimed" : "TookOver", S.ClaimedBy is null ? null : $"from {S.ClaimedBy}"));
        S.ClaimedBy = actor;
        S.ClaimedAt = now;
        S.Status = RiskReviewStatus.Claimed;
        S.ProjectionPending = true;
        await state.WriteOrReloadAsync(this);
        await Publish();
        return new ReviewActionResult(ReviewActionStatus.Done, View(), null);
    }

    public async Task<ReviewActionResult> Decide(string actor, bool isAdmin, bool approve, string note)
    {
        if (S.Opening is null)
        {
            return new ReviewActionResult(ReviewActionStatus.NotFound, null, $"Review '{this.GetPrimaryKeyString()}' does not exist.");
        }
        if (Closed)
        {
            // The same decision sent again by its analyst (its answer was lost while the payment acted on it) is answered as
            // done; the payment is told again if it has not heard yet. Another decision, or one after a withdrawal, is refused.
            if (S.DecidedBy == actor && S.DecisionNote == note
                && S.Status == (approve ? RiskReviewStatus.Approved : RiskReviewStatus.Rejected))
            {
                await Publish();
                return new ReviewActionResult(ReviewActionStatus.Done, View(), null);
            }
            return AlreadyClosed();
        }
        if (S.ClaimedBy != actor && !isAdmin)
        {
            return S.ClaimedBy is null
                ? new ReviewActionResult(ReviewActionStatus.NotClaimed, View(), "Claim the review before deciding it.")
                : new ReviewActionResult(ReviewActionStatus.ClaimedByAnother, View(), $"The review is claimed by {S.ClaimedBy}.");
        }
        var now = clock.GetUtcNow();
        S.Status = approve ? RiskReviewStatus.Approved : RiskReviewStatus.Rejected;
        S.DecidedBy = actor;
        S.DecidedAt = now;
        S.DecisionNote = note;
        S.Audit.Add(new RiskReviewAuditEntry(now, actor, approve ? "Approved" : "Rejected", note));
        S.ProjectionPending = true;
        S.PaymentPending = true;
        // The decision is durable before the payment hears of it; the payment is told until it has been.
        await state.WriteOrReloadAsync(this);
        await Publish();
        return new ReviewActionResult(ReviewActionStatus.Done, View(), null);
    }

    public async Task Withdraw(string reason)
    {
        if (S.Opening is null || Closed)
        {
            return;
        }
        var now = clock.GetUtcNow();
        S.Status = RiskReviewStatus.Withdrawn;
        S.DecidedBy = "system";
        S.DecidedAt = now;
        S.DecisionNote = reason;
        S.Audit.Add(new RiskReviewAuditEntry(now, "system", "Withdrawn", reason));
        S.ProjectionPending = true;
        await state.WriteOrReloadAsync(this);
        await Publish();
    }

    public async Task WithdrawForPayment(string reason)
    {
        // Withdrawn now, decided before, or never opened: closed either way (a failed write throws, and the payment asks again).
        await Withdraw(reason);
        // One-way: the payment may be waiting on this review's own call.
        await GrainFactory.GetGrain<Payments.IPaymentGrain>(this.GetPrimaryKeyString()).ReviewClosed();
    }

    public async Task WithdrawBeforeDecisionCounted(string reason)
    {
        // The payment took the cancellation before it acted on any decision, so a decision stored meanwhile never counted: it
        // stays (it is the analyst's judgement, and a label), and the trail says it was not acted on.
        if (S.Opening is not null && S.Status is RiskReviewStatus.Approved or RiskReviewStatus.Rejected
            && !S.Audit.Any(a => a.Action == NotActedOn))
        {
            S.Audit.Add(new RiskReviewAuditEntry(clock.GetUtcNow(), "system", NotActedOn,
                $"The order was cancelled before the payment acted on this decision ({reason}); the payment followed the cancellation."));
            S.ProjectionPending = true;
            await state.WriteOrReloadAsync(this);
            await Publish();
        }
        await WithdrawForPayment(reason);
    }

    private bool Closed => S.Status is RiskReviewStatus.Approved or RiskReviewStatus.Rejected or RiskReviewStatus.Withdrawn;

    private ReviewActionResult AlreadyClosed() => new(ReviewActionStatus.AlreadyDecided, View(), S.Status == RiskReviewStatus.Withdrawn
        ? $"The review was withdrawn: {S.DecisionNote}."
        : $"The review was decided ({S.Status}) by {S.DecidedBy}.");

    private async Task Publish()
    {
        try
        {
            if (S.PaymentPending)
            {
                await GrainFactory.GetGrain<Payments.IPaymentGrain>(this.GetPrimaryKeyString())
                    .ResolveReview(S.Status == RiskReviewStatus.Approved, S.DecidedBy ?? "system");
                S.PaymentPending = false;
            }
            if (S.ProjectionPending)
            {
                await sink.RecordAsync(View(), CancellationToken.None);
                S.ProjectionPending = false;
            }
            await state.WriteOrReloadAsync(this);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Review {ReviewId} could not publish its change; will retry", this.GetPrimaryKeyString());
            ScheduleRetry();
            try
            {
                await this.RegisterOrUpdateReminder(PublishReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            }
            catch (Exception reminderFailed)
            {
                logger.LogWarning(reminderFailed, "Review {ReviewId} could not register its retry reminder", this.GetPrimaryKeyString());
            }
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != PublishReminder)
        {
            return;
        }
        if (S.ProjectionPending || S.PaymentPending)
        {
            await Publish();
        }
        if (!S.ProjectionPending && !S.PaymentPending && await this.GetReminder(PublishReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private void ScheduleRetry() =>
        _retry ??= this.RegisterGrainTimer(static async (grain, _) =>
        {
            await grain.Publish();
            if (!grain.S.ProjectionPending && !grain.S.PaymentPending)
            {
                grain._retry?.Dispose();
                grain._retry = null;
            }
        }, this, new GrainTimerCreationOptions { DueTime = RetryPeriod, Period = RetryPeriod, Interleave = false, KeepAlive = true });

    private RiskReviewView View() => new(this.GetPrimaryKeyString(), S.Opening!, S.Status, S.ClaimedBy, S.ClaimedAt, S.DecidedBy, S.DecidedAt,
        S.DecisionNote, S.Audit.ToArray());
}
