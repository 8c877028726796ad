using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Payments;

/// <summary>
/// What the order still has to hear from its payment; written before the call, cleared after it. CapturedForReview: money taken
/// (a bank transfer) but scored for review; ReviewApproved and ReviewRejected: the analysts' decision on such a payment.
/// </summary>
public enum OrderNotice { None, Authorized, Captured, Failed, HeldForReview, CapturedForReview, ReviewApproved, ReviewRejected }

/// <summary>Persistent state of a payment grain (state name <c>payment</c>).</summary>
[GenerateSerializer]
public sealed class PaymentState : IWakeAtState
{
    [Id(0)] public PaymentStart? Start { get; set; }
    [Id(1)] public PaymentStatus Status { get; set; }
    [Id(2)] public string Provider { get; set; } = "";
    [Id(3)] public string? ProviderPaymentId { get; set; }
    [Id(4)] public string? DeclineCode { get; set; }
    [Id(5)] public string? Message { get; set; }
    [Id(6)] public string? ActionUrl { get; set; }
    [Id(7)] public string? TransferReference { get; set; }
    [Id(8)] public List<PaymentHistoryEntry> History { get; set; } = [];
    [Id(9)] public List<PaymentRefundView> Refunds { get; set; } = [];
    /// <summary>Recent webhook event ids, to drop duplicates.</summary>
    [Id(10)] public List<string> SeenEvents { get; set; } = [];
    [Id(11)] public OrderNotice Notice { get; set; }
    /// <summary>The order took the authorized payment: capture it (repeated until the provider confirms).</summary>
    [Id(12)] public bool CaptureRequested { get; set; }
    /// <summary>The order refused the payment before capture: void it at the provider.</summary>
    [Id(13)] public bool VoidRequested { get; set; }
    /// <summary>Refunds settled at the provider that the order has not yet been told of.</summary>
    [Id(14)] public List<string> RefundsToReport { get; set; } = [];
    /// <summary>The provider answered the authorization at least once (afterwards a lookup, not a new request, finds the outcome).</summary>
    [Id(15)] public bool Answered { get; set; }
    [Id(16)] public DateTimeOffset CreatedAt { get; set; }
    [Id(17)] public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>The risk score, taken before the provider heard of the payment (R-PAY-5).</summary>
    [Id(18)] public Risk.RiskScore? RiskScore { get; set; }
    [Id(19)] public Risk.RiskEvent? RiskEvent { get; set; }
    /// <summary>Features as earlier versions stored them (named and described one by one); new payments store the two below.</summary>
    [Id(20)] public List<Risk.RiskFeatureValue>? RiskFeatures { get; set; }
    /// <summary>Authorized and waiting for an analyst; only their decision captures or voids it.</summary>
    [Id(21)] public bool HeldForReview { get; set; }
    [Id(22)] public bool? ReviewApproved { get; set; }
    /// <summary>The outcome went into the buyer's, card's, device's, IP's and address's histories.</summary>
    [Id(23)] public bool RiskRecorded { get; set; }
    /// <summary>
    /// Set by a write that leaves steps to do with no reminder to do them: the deadline index wakes the payment then, so a crash
    /// in the middle of its steps (say, after the provider authorized but before the capture was stored) does not stall it.
    /// </summary>
    [Id(24)] public DateTimeOffset? ResumeAt { get; set; }

    /// <summary>The model's inputs for this payment, in the order of <see cref="RiskFeatureSet"/> (see <see cref="Risk.RiskFeatures.Describe"/>).</summary>
    [Id(25)] public float[]? RiskFeatureValues { get; set; }
    [Id(26)] public string? RiskFeatureSet { get; set; }
    /// <summary>
    /// Whether the provider is asked to capture on authorization, decided before it first hears of the payment and stored with
    /// that write, so a repeat after a crash sends the same request under the same key even if the setting changed meanwhile.
    /// Null: stored by a version that only ever authorized, which a repeat must do again.
    /// </summary>
    [Id(27)] public bool? CaptureAtOnce { get; set; }
    /// <summary>Asks of the provider made after the order's payment deadline while still waiting on the buyer.</summary>
    [Id(28)] public int LateLookups { get; set; }
    /// <summary>When to ask the provider again, if the payment still waits on the buyer then (see PaymentOptions.LateLookups).</summary>
    [Id(29)] public DateTimeOffset? NextLookupAt { get; set; }
    /// <summary>
    /// The cancelled order's reason, while the review has yet to confirm it is closed: the payment asks it (one-way) to withdraw
    /// until it does.
    /// </summary>
    [Id(30)] public string? ReviewWithdrawal { get; set; }
    /// <summary>The order's cancellation came before this payment acted on any decision of its review (so one taken anyway never counted).</summary>
    [Id(31)] public bool CancelledBeforeReviewDecision { get; set; }

    /// <summary>The features, named and described, however they were stored.</summary>
    public IReadOnlyList<Risk.RiskFeatureValue> DescribedRiskFeatures() =>
        RiskFeatures ?? Risk.RiskFeatures.Describe(RiskFeatureSet, RiskFeatureValues);

    DateTimeOffset? IWakeAtState.WakeAt => ResumeAt;
}

/// <summary>
/// One payment (R-PAY-1): authorize → (3-D Secure or bank transfer wait) → the order takes it → capture → the order is paid.
/// Each step is written before its effect; a provider time-out leaves the step in the state and a timer (with a reminder as a
/// durable backstop) repeats it with the same idempotency key until the provider answers. Webhooks drive the asynchronous
/// outcomes; duplicates and stale events change nothing.
/// </summary>
public sealed class PaymentGrain(
    [PersistentState(stateName: "payment", storageName: StorageNames.Trade)] IPersistentState<PaymentState> state,
    IPaymentProvider provider,
    Risk.RiskAssessor risk,
    IOptions<PaymentOptions> options,
    TradeClock clock,
    PaymentsAsking asking,
    ILogger<PaymentGrain> logger) : Grain, IPaymentGrain, IRemindable, IWakeableGrain
{
    private const string ReconcileReminder = "reconcile";
    private const int SeenEventsKept = 64;
    private IGrainTimer? _timer;
    private bool _reminderMayExist;
    /// <summary>Steps whose calls are safe to repeat have changed the state since the last write; the step chain writes once at its end.</summary>
    private bool _unwritten;
    /// <summary>This activation holds one of the silo's <see cref="PaymentsAsking"/> places.</summary>
    private bool _kept;

    private PaymentState S => state.State;
    private string PaymentId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Start is not null && HasWork())
        {
            await ScheduleReconcile();
        }
    }

    public async Task<PaymentView> Start(PaymentStart start)
    {
        if (S.Start is null)
        {
            if (start.PaymentId != PaymentId)
            {
                throw new ArgumentException($"Payment {PaymentId} cannot start as {start.PaymentId}.", nameof(start));
            }
            var now = clock.GetUtcNow();
            S.Start = start;
            S.Status = PaymentStatus.Pending;
            S.Provider = provider.Name;
            S.CreatedAt = now;
            Note(now, "Created", $"{start.Instrument.Type} {start.Amount.AmountMinor} {start.Amount.Currency}");
            if (start.Risk is { } attempt)
            {
                // Scoring only reads, so it goes into the first write; if it cannot be had now, the first step scores.
                try
                {
                    await Score(attempt, now);
                }
                catch (Exception ex) when (ex is TimeoutException or OrleansException)
                {
                    logger.LogWarning(ex, "Payment {PaymentId} could not be scored at once; its first step scores it", PaymentId);
                }
            }
            else
            {
                DecideCapture();
            }
            // The attempt (and its score) exists before the provider hears of it. A crash from here on is picked up by the deadline
            // index (ResumeAt, in this same write), so a payment costs no reminder of its own unless it stalls.
            await Write();
        }
        await Advance();
        return View();
    }

    public Task<PaymentView?> Get() => Task.FromResult(S.Start is null ? null : View());

    public async Task HandleProviderEvent(ProviderEvent e)
    {
        if (S.Start is null || S.SeenEvents.Contains(e.EventId))
        {
            return;
        }
        S.SeenEvents.Add(e.EventId);
        if (S.SeenEvents.Count > SeenEventsKept)
        {
            S.SeenEvents.RemoveAt(0);
        }
        var now = clock.GetUtcNow();
        var changed = e.RefundId is { } refundId && e.RefundStatus is { } refundStatus
            ? SettleRefund(now, refundId, refundStatus == RefundOutcomeStatus.Succeeded ? RefundStatus.Succeeded
                : refundStatus == RefundOutcomeStatus.Failed ? RefundStatus.Failed : RefundStatus.Pending, "webhook")
            : Apply(now, e.Outcome, "webhook");
        // An event that tells what the payment already knows (the usual case: the provider's answer came first) costs no write;
        // its id is remembered in memory, and a repeat after a restart changes nothing either.
        if (changed)
        {
            await Write();
        }
        await Advance();
        LeaveIfSettled();
    }

    /// <summary>
    /// A payment the provider has settled for good, with nothing left to do or tell, leaves memory after the provider's event
    /// about it (normally the last call it gets: the provider's answer came first, then the event). A refund, a lookup or a late
    /// event later meets one state read. Kept for its idle age instead, the paid checkouts of a flash sale kept every payment in
    /// the heap half a minute each.
    /// </summary>
    private void LeaveIfSettled()
    {
        if (S.Start is not null && S.Status is not (PaymentStatus.Pending or PaymentStatus.RequiresAction or PaymentStatus.AwaitingTransfer
                or PaymentStatus.Authorized) && !HasWork() && !_unwritten && !_kept)
        {
            DeactivateOnIdle();
        }
    }

    public async Task RequestRefund(PaymentRefundOrder refund)
    {
        if (S.Start is null)
        {
            return;
        }
        if (S.Refunds.Find(r => r.RefundId == refund.RefundId) is { } known)
        {
            if (known.Status != RefundStatus.Pending && !S.RefundsToReport.Contains(known.RefundId))
            {
                S.RefundsToReport.Add(known.RefundId); // the order asks again: it missed the answer
                await Write();
            }
        }
        else
        {
            var refunded = RefundedOrPending();
            var now = clock.GetUtcNow();
            if (refund.Amount.Currency != S.Start.Amount.Currency || refund.Amount.AmountMinor <= 0
                || refunded + refund.Amount.AmountMinor > S.Start.Amount.AmountMinor)
            {
                logger.LogError("Payment {PaymentId} refused refund {RefundId} of {Amount} {Currency}: more than was paid", PaymentId,
                    refund.RefundId, refund.Amount.AmountMinor, refund.Amount.Currency);
                S.Refunds.Add(new PaymentRefundView(refund.RefundId, refund.Amount, RefundStatus.Failed, "more than the payment holds", now, now));
                S.RefundsToReport.Add(refund.RefundId);
            }
            else
            {
                S.Refunds.Add(new PaymentRefundView(refund.RefundId, refund.Amount, RefundStatus.Pending, refund.Reason, now, null));
                Note(now, "RefundRequested", $"{refund.RefundId}: {refund.Amount.AmountMinor} {refund.Amount.Currency}");
                WithdrawReviewIfRefundedInFull();
            }
            await Write();
        }
        await AskReviewToWithdrawUntilConfirmed();
        await Advance();
    }

    /// <summary>
    /// Money held for a review and given back in full (the order was cancelled, or refunded by its seller): the review has nothing
    /// left to decide, so the analysts' queue drops it, and a decision arriving later is not taken. Checked when a refund arrives
    /// and when the review is opened, whichever comes last.
    /// </summary>
    private void WithdrawReviewIfRefundedInFull()
    {
        if (S.Start is { } start && S.HeldForReview && S.ReviewApproved is null && S.ReviewWithdrawal is null
            && RefundedOrPending() >= start.Amount.AmountMinor)
        {
            S.ReviewApproved = false;
            S.ReviewWithdrawal = "the order was refunded in full";
            S.CancelledBeforeReviewDecision = true;
        }
    }

    /// <summary>Minor units refunded or on their way back (every refund but a failed one).</summary>
    private long RefundedOrPending() => S.Refunds.Where(r => r.Status != RefundStatus.Failed).Sum(r => r.Amount.AmountMinor);

    public async Task ResolveReview(bool approve, string actor)
    {
        if (S.Start is not null && !S.HeldForReview)
        {
            // Not held as far as this payment knows: its write that it is held was lost (a crash, a failed write) after the review
            // was opened. Its next steps open the review again, which waits on this call, so they run in a turn of their own, and
            // opening the review then finds this decision (OpenReview).
            if (HasWork())
            {
                await ScheduleReconcile();
            }
            return;
        }
        if (S.Start is null || S.ReviewApproved is not null)
        {
            await Advance();
            return;
        }
        TakeReviewDecision(approve, actor, clock.GetUtcNow());
        await Write();
        await Advance();
    }

    private void TakeReviewDecision(bool approve, string actor, DateTimeOffset now)
    {
        S.ReviewApproved = approve;
        if (S.Status == PaymentStatus.Captured)
        {
            // The money was taken before the review (a bank transfer): the order moves on, or cancels and refunds it.
            S.Notice = approve ? OrderNotice.ReviewApproved : OrderNotice.ReviewRejected;
        }
        else if (approve)
        {
            S.CaptureRequested = true;
        }
        else
        {
            S.VoidRequested = true;
        }
        Note(now, approve ? "ReviewApproved" : "ReviewRejected", actor);
    }

    /// <summary>
    /// Picks up what is left. A payment waiting on the buyer (3-D Secure, a bank transfer) has nothing to do until the provider's
    /// webhook says so, but a webhook can be lost: the order resumes its open attempts when its payment deadline passes, and a
    /// waiting one then asks the provider. Money taken meanwhile is reported to the order, which refuses it if it was cancelled,
    /// and the payment gives it back.
    /// </summary>
    public async Task Resume()
    {
        if (S.Start is not null && WaitingOnBuyer)
        {
            var now = clock.GetUtcNow();
            var changed = false;
            try
            {
                changed = await provider.LookupAsync(PaymentId, CancellationToken.None) is { } seen && Apply(now, seen, "lookup");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Payment {PaymentId} could not ask the provider where it stands; its webhook may still tell", PaymentId);
            }
            // Still waiting: ask again later, a few times, farther apart (a buyer may complete late and the webhook be lost again).
            var lookups = options.Value.LateLookups;
            var next = WaitingOnBuyer && S.LateLookups < lookups.Length ? now + lookups[S.LateLookups] : (DateTimeOffset?)null;
            if (next != S.NextLookupAt)
            {
                S.LateLookups += next is null ? 0 : 1;
                S.NextLookupAt = next;
                changed = true;
            }
            if (changed)
            {
                await Write();
            }
        }
        await Advance();
    }

    private bool WaitingOnBuyer => S.Status is PaymentStatus.RequiresAction or PaymentStatus.AwaitingTransfer;

    /// <summary>
    /// The deadline sweeper found <see cref="PaymentState.ResumeAt"/> due: a crash may have cut the steps off, or a late lookup
    /// is due; go on.
    /// </summary>
    public async Task<WakeAnswer> WakeUp()
    {
        if (S.NextLookupAt is { } lookupAt && WaitingOnBuyer && clock.GetUtcNow() >= lookupAt)
        {
            await Resume();
        }
        else
        {
            await Advance();
        }
        return new WakeAnswer(state.Etag, NextResumeAt());
    }

    public async Task OrderCancelled(string reason)
    {
        var changed = false;
        // Whether this payment had acted on a decision of its review: if not, a decision the review took anyway never counted.
        var reviewUndecided = S.Start is not null && S.HeldForReview && S.ReviewApproved is null;
        if (reviewUndecided)
        {
            S.ReviewApproved = false;
            S.VoidRequested = true;
            Note(clock.GetUtcNow(), "OrderCancelled", reason);
            changed = true;
        }
        if (reviewUndecided)
        {
            S.CancelledBeforeReviewDecision = true;
        }
        if (S.Start is not null && (WaitingOnBuyer || S.Status == PaymentStatus.Pending) && !S.VoidRequested)
        {
            // Still open to the buyer (a 3-D Secure challenge, a bank transfer, or no answer yet): closed at the provider, so the
            // buyer cannot pay an order that no longer takes the money. Money taken first is refused by the order and given back.
            S.VoidRequested = true;
            Note(clock.GetUtcNow(), "OrderCancelled", reason);
            changed = true;
        }
        if (S.Start is not null && S.HeldForReview && S.ReviewWithdrawal is null)
        {
            // The analysts' queue drops it: a decision taken now would be answered as done and carried out by nobody; a review
            // decided before this payment heard of it records that its decision was not acted on. Asked one-way and repeated until the review confirms (ReviewClosed): an analyst's
            // decision calls this payment and waits, so waiting here for the review stalled both calls until their time-out.
            S.ReviewWithdrawal = reason;
            changed = true;
        }
        if (changed)
        {
            await Write();
        }
        AskReviewToWithdraw();
        // The void is carried out in a turn of the payment's own, after the order's call has been answered: done here, the
        // payment would report the void to the order that is waiting on this call, and both would wait until it timed out.
        if (HasWork())
        {
            await ScheduleReconcile();
        }
    }

    public async Task OrderCancelledBy(string orderId, string reason)
    {
        await OrderCancelled(reason);
        await GrainFactory.GetGrain<Orders.IOrderGrain>(orderId).PaymentTookCancellation(PaymentId);
    }

    public async Task ReviewClosed()
    {
        if (S.ReviewWithdrawal is not null)
        {
            S.ReviewWithdrawal = null;
            await Write();
            await StopReconcile(); // unless something else is left to do
        }
    }

    /// <summary>Asks (after the withdrawal is stored) and keeps asking every reconcile period until the review confirms.</summary>
    private async Task AskReviewToWithdrawUntilConfirmed()
    {
        if (S.ReviewWithdrawal is not null)
        {
            AskReviewToWithdraw();
            await ScheduleReconcile();
        }
    }

    /// <summary>One-way, so no turn of this payment ever waits on its review (see <see cref="OrderCancelled"/>).</summary>
    private void AskReviewToWithdraw()
    {
        if (S.ReviewWithdrawal is { } reason)
        {
            var review = GrainFactory.GetGrain<Risk.IRiskReviewGrain>(PaymentId);
            // Only a payment that knows it acted on no decision lets the review mark a decision as not acted on (state stored
            // before that was known, and payments on silos not yet upgraded, ask plainly).
            (S.CancelledBeforeReviewDecision ? review.WithdrawBeforeDecisionCounted(reason) : review.WithdrawForPayment(reason)).Ignore();
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ReconcileReminder)
        {
            _reminderMayExist = true;
            await Advance();
        }
    }

    // ---------------------------------------------------------------- the engine

    /// <summary>Does whatever the state says is next, step by step, until it waits on someone else or everything is done.</summary>
    private async Task Advance()
    {
        if (S.Start is null)
        {
            return;
        }
        AskReviewToWithdraw();
        try
        {
            while (await Step())
            {
            }
            await WriteUnwritten();
            await StopReconcile();
        }
        catch (Exception ex) when (ex is PaymentProviderUnavailableException or TimeoutException or OrleansException)
        {
            logger.LogWarning(ex, "Payment {PaymentId} could not finish a step; it will ask again", PaymentId);
            await KeepAsking();
        }
        catch (Exception ex)
        {
            // Not transient (a refused request, a bug): keep the state as it is, say so loudly, and keep asking.
            logger.LogError(ex, "Payment {PaymentId} failed a step; it will ask again", PaymentId);
            await KeepAsking();
        }
        finally
        {
            // Timer ticks are not activity to Orleans: without this a payment still asking (a provider that is down) would be
            // collected after its idle age and wait for its one-minute reminder instead of asking every ReconcilePeriod. Only so
            // many are kept per silo; the others stop their timer (a tick keeps the grain busy, so it would never be idle) and
            // leave at their idle age, and their reminder asks once a minute.
            if (!HasWork())
            {
                ReleaseKept();
            }
            else if (_kept || (_kept = asking.TryKeep(options.Value.MaxKeptAsking)))
            {
                DelayDeactivation(options.Value.ReconcilePeriod * 3);
            }
            else if (_reminderMayExist)
            {
                _timer?.Dispose();
                _timer = null;
            }
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        ReleaseKept();
        return Task.CompletedTask;
    }

    private void ReleaseKept()
    {
        if (_kept)
        {
            _kept = false;
            asking.Release();
        }
    }

    /// <summary>After a failed step: store what the earlier steps did (or fall back to what is stored), and ask again later.</summary>
    private async Task KeepAsking()
    {
        try
        {
            await WriteUnwritten();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Payment {PaymentId} could not store its last steps; they are repeated from the stored state", PaymentId);
        }
        await ScheduleReconcile();
    }

    private Task WriteUnwritten() => _unwritten ? Write() : Task.CompletedTask;

    /// <summary>
    /// For a step whose calls are safe to repeat (the order's answers are idempotent per payment, the provider's per idempotency
    /// key, the risk histories per payment id): its change rides on the chain's next write. A crash before that write repeats
    /// the step from the stored state, with the same outcome.
    /// </summary>
    private void Unwritten() => _unwritten = true;

    private async Task Score(Risk.RiskEvent attempt, DateTimeOffset now)
    {
        var assessment = await risk.AssessAsync(attempt with { OccurredAt = now });
        S.RiskScore = Risk.OrderReview.Apply(assessment.Score, S.Start!.OrderReviewReason, assessment.Event.AmountUsdMinor);
        S.RiskEvent = assessment.Event;
        S.RiskFeatureValues = assessment.Features;
        S.RiskFeatureSet = Risk.RiskFeatures.SetId;
        S.RiskFeatures = null;
        DecideCapture();
        Note(now, "Scored", $"{S.RiskScore.Score} ({S.RiskScore.Decision}, model {S.RiskScore.ModelVersion})");
        if (S.RiskScore.Decision == Risk.RiskDecision.Block)
        {
            S.Status = PaymentStatus.Failed;
            S.DeclineCode = "risk_blocked";
            S.Message = S.RiskScore.Reasons.FirstOrDefault()?.Description;
            S.Notice = OrderNotice.Failed;
            Note(now, "Failed", "blocked by risk policy");
        }
    }

    /// <summary>One step; true when something changed and there may be more to do.</summary>
    private async Task<bool> Step()
    {
        var start = S.Start!;
        var order = GrainFactory.GetGrain<IOrderGrain>(start.OrderId);
        var now = clock.GetUtcNow();
        if (S.Status == PaymentStatus.Pending && start.Risk is { } attempt && S.RiskScore is null)
        {
            // Scored before the provider hears of it: a blocked payment never reaches the provider.
            await Score(attempt, now);
            await Write();
            return true;
        }
        if (S.Status == PaymentStatus.Pending)
        {
            if (!S.Answered)
            {
                var outcome = await provider.AuthorizeAsync(new ProviderAuthorizeRequest(PaymentId, $"{PaymentId}:authorize", start.Amount,
                    start.Instrument, start.PayBy, S.CaptureAtOnce ?? false), CancellationToken.None);
                S.Answered = true;
                Apply(now, outcome, "authorize");
                if (S.Status is PaymentStatus.Authorized or PaymentStatus.Captured)
                {
                    // Straight through: what follows (the order's lock and the capture, or the order taking the captured money) is
                    // safe to repeat, so the answer rides on the chain's last write; a crash before it authorizes again under the
                    // same key and gets this answer.
                    Unwritten();
                }
                else
                {
                    await Write();
                }
                return S.Status != PaymentStatus.Pending;
            }
            // Processing: the webhook will tell; ask meanwhile so a lost webhook does not leave the payment hanging.
            if (await provider.LookupAsync(PaymentId, CancellationToken.None) is { Status: not ProviderPaymentStatus.Processing } seen)
            {
                Apply(now, seen, "lookup");
                await Write();
                return true;
            }
            await ScheduleReconcile();
            return false;
        }
        switch (S.Notice)
        {
            case OrderNotice.HeldForReview:
                // The notice is cleared (in OpenReview) only once the order and the review both have it; each call is safe to
                // repeat. Cleared first, a failed opening would leave an order held for a review that never exists.
                var hold = await order.PaymentHeldForReview(PaymentId, HeldReason);
                if (hold == PaymentDecision.Proceed)
                {
                    await OpenReview(start, now, $"score {S.RiskScore!.Score}");
                }
                else
                {
                    S.Notice = OrderNotice.None;
                    S.VoidRequested = true;
                    Note(now, "RefusedByOrder", "the order can no longer take this payment");
                    WithdrawReviewMaybeOpened("the order can no longer take this payment");
                }
                await Write();
                await AskReviewToWithdrawUntilConfirmed();
                return true;
            case OrderNotice.Authorized:
                var take = await order.PaymentAuthorized(PaymentId);
                S.Notice = OrderNotice.None;
                if (take == PaymentDecision.Proceed)
                {
                    S.CaptureRequested = true;
                }
                else
                {
                    S.VoidRequested = true;
                    Note(now, "RefusedByOrder", "the order can no longer take this payment");
                }
                Unwritten();
                return true;
            case OrderNotice.Captured:
                var keep = await order.PaymentCaptured(PaymentId);
                S.Notice = OrderNotice.None;
                if (keep == PaymentDecision.Refuse)
                {
                    await ReturnInFull(now, start);
                    return true;
                }
                Unwritten();
                return true;
            case OrderNotice.CapturedForReview:
                var held = await order.PaymentCapturedForReview(PaymentId, HeldReason);
                if (held == PaymentDecision.Refuse)
                {
                    S.Notice = OrderNotice.None;
                    WithdrawReviewMaybeOpened("the order can no longer take this payment");
                    await ReturnInFull(now, start);
                    await AskReviewToWithdrawUntilConfirmed();
                    return true;
                }
                await OpenReview(start, now, $"score {S.RiskScore!.Score}, captured");
                await Write();
                await AskReviewToWithdrawUntilConfirmed();
                return true;
            case OrderNotice.ReviewApproved or OrderNotice.ReviewRejected:
                await order.PaymentReviewDecided(PaymentId, S.Notice == OrderNotice.ReviewApproved,
                    S.Notice == OrderNotice.ReviewApproved ? "approved by the risk review" : "the payment was rejected");
                S.Notice = OrderNotice.None;
                await Write();
                return true;
            case OrderNotice.Failed:
                await order.PaymentFailed(PaymentId, S.DeclineCode is null ? $"payment {S.Status.ToString().ToLowerInvariant()}" : $"declined: {S.DeclineCode}");
                S.Notice = OrderNotice.None;
                Unwritten();
                return true;
        }
        if (S.Status == PaymentStatus.Authorized && S.CaptureRequested)
        {
            Apply(now, await provider.CaptureAsync(S.ProviderPaymentId!, start.Amount, $"{PaymentId}:capture", CancellationToken.None), "capture");
            Unwritten();
            return S.Status != PaymentStatus.Authorized;
        }
        if (S.VoidRequested && S.Status is PaymentStatus.Authorized or PaymentStatus.RequiresAction or PaymentStatus.AwaitingTransfer)
        {
            ProviderOutcome voided;
            try
            {
                voided = await provider.VoidAsync(S.ProviderPaymentId!, $"{PaymentId}:void", CancellationToken.None);
            }
            catch (InvalidOperationException refused)
            {
                // The provider holds it as something that cannot be voided: the buyer completed it first (its webhook may be
                // late or lost). What it came to is taken as any outcome: captured money goes to the order, which refuses it.
                // A lookup that moves nothing leaves the refusal to be asked again later, not at once.
                var from = S.Status;
                if (await provider.LookupAsync(PaymentId, CancellationToken.None) is not { } seen || !Apply(now, seen, "lookup") || S.Status == from)
                {
                    throw;
                }
                logger.LogInformation(refused, "Payment {PaymentId} could not be voided: it is {Status} at the provider", PaymentId, seen.Status);
                await Write();
                return true;
            }
            Apply(now, voided, "void");
            S.VoidRequested = false;
            await Write();
            return true;
        }
        if (S.Status == PaymentStatus.Captured && S.Refunds.FirstOrDefault(r => r.Status == RefundStatus.Pending) is { } refund)
        {
            var outcome = await provider.RefundAsync(S.ProviderPaymentId!, refund.RefundId, refund.Amount, $"{PaymentId}:refund:{refund.RefundId}", CancellationToken.None);
            if (outcome.Status == RefundOutcomeStatus.Pending)
            {
                await ScheduleReconcile(); // the provider will confirm by webhook
                return false;
            }
            if (outcome.Status == RefundOutcomeStatus.Failed)
            {
                logger.LogError("Payment {PaymentId}: the provider refused refund {RefundId} of {Amount} {Currency}: {Reason}", PaymentId,
                    refund.RefundId, refund.Amount.AmountMinor, refund.Amount.Currency, outcome.Message);
            }
            SettleRefund(now, refund.RefundId, outcome.Status == RefundOutcomeStatus.Succeeded ? RefundStatus.Succeeded : RefundStatus.Failed, "refund");
            await Write();
            return true;
        }
        if (RiskOutcomeDue && S.RiskEvent is { } recorded)
        {
            // An analyst's rejection is a decline, whatever became of the money (voided, or a transfer given back); a review
            // withdrawn because the order ended first decided nothing.
            var declined = S.Status is PaymentStatus.Failed || (S.ReviewApproved == false && !S.CancelledBeforeReviewDecision);
            await risk.RecordAsync(recorded with { Outcome = declined ? Risk.RiskOutcome.Declined : Risk.RiskOutcome.Approved });
            S.RiskRecorded = true;
            Unwritten();
            return true;
        }
        if (S.RefundsToReport.Count > 0)
        {
            var refundId = S.RefundsToReport[0];
            await order.RefundSettled(refundId, S.Refunds.Find(r => r.RefundId == refundId)?.Status ?? RefundStatus.Failed);
            S.RefundsToReport.RemoveAt(0);
            await Write();
            return true;
        }
        return false;
    }

    /// <summary>
    /// Whether the provider captures on authorization (<see cref="PaymentOptions.CaptureWithAuthorization"/>): not for a payment
    /// the risk model sends to review, which stays authorized only until an analyst decides. Decided with the score (or at the
    /// start, unscored), written before the provider hears of the payment.
    /// </summary>
    private void DecideCapture() =>
        S.CaptureAtOnce = options.Value.CaptureWithAuthorization && S.RiskScore?.Decision != Risk.RiskDecision.Review;

    /// <summary>Moves the payment forward on a provider outcome; outcomes that would move it backwards (stale events) are ignored.</summary>
    /// <returns>Whether the state changed.</returns>
    private bool Apply(DateTimeOffset now, ProviderOutcome outcome, string source)
    {
        var learnedId = S.ProviderPaymentId is null && outcome.ProviderPaymentId is not null;
        S.ProviderPaymentId ??= outcome.ProviderPaymentId;
        var from = S.Status;
        var next = PaymentTransitions.Next(from, outcome.Status);
        if (next == from)
        {
            return learnedId;
        }
        S.Status = next;
        S.DeclineCode = outcome.DeclineCode ?? S.DeclineCode;
        S.Message = outcome.Message ?? S.Message;
        S.ActionUrl = next == PaymentStatus.RequiresAction ? outcome.ActionUrl : null;
        S.TransferReference = outcome.TransferReference ?? S.TransferReference;
        S.Notice = next switch
        {
            // Scored for review: authorized but not captured until an analyst approves.
            PaymentStatus.Authorized when S.RiskScore?.Decision == Risk.RiskDecision.Review && S.ReviewApproved is null => OrderNotice.HeldForReview,
            PaymentStatus.Authorized => OrderNotice.Authorized,
            // A bank transfer cannot wait authorized: taken, but the order waits for the analysts as a card payment would.
            PaymentStatus.Captured when S.RiskScore?.Decision == Risk.RiskDecision.Review && S.ReviewApproved is null => OrderNotice.CapturedForReview,
            PaymentStatus.Captured => OrderNotice.Captured,
            PaymentStatus.Failed or PaymentStatus.Voided or PaymentStatus.Expired => OrderNotice.Failed,
            _ => S.Notice,
        };
        if (next == PaymentStatus.Voided)
        {
            S.VoidRequested = false;
        }
        Note(now, next.ToString(), outcome.DeclineCode is null ? source : $"{source}: {outcome.DeclineCode}");
        return true;
    }

    /// <returns>Whether the state changed.</returns>
    private bool SettleRefund(DateTimeOffset now, string refundId, RefundStatus status, string source)
    {
        var index = S.Refunds.FindIndex(r => r.RefundId == refundId);
        if (index < 0 || S.Refunds[index].Status != RefundStatus.Pending || status == RefundStatus.Pending)
        {
            return false;
        }
        S.Refunds[index] = S.Refunds[index] with { Status = status, SettledAt = now };
        if (!refundId.EndsWith("-return", StringComparison.Ordinal))
        {
            S.RefundsToReport.Add(refundId);
        }
        Note(now, status == RefundStatus.Succeeded ? "Refunded" : "RefundFailed", $"{refundId} ({source})");
        if (S.Refunds.Where(r => r.Status == RefundStatus.Succeeded).Sum(r => r.Amount.AmountMinor) >= S.Start!.Amount.AmountMinor)
        {
            S.Status = PaymentStatus.Refunded;
        }
        return true;
    }

    /// <summary>What the order's timeline says of a held payment: it reaches the buyer, so the score and its reasons stay with the review.</summary>
    private string HeldReason => $"payment {PaymentId} is held for a risk review";

    /// <summary>Opens the analysts' review once the order holds for it; the notice is cleared only after both have it.</summary>
    private async Task OpenReview(PaymentStart start, DateTimeOffset now, string detail)
    {
        var review = await GrainFactory.GetGrain<Risk.IRiskReviewGrain>(PaymentId).Open(new Risk.RiskReviewOpening(PaymentId, start.OrderId,
            start.BuyerId, start.SellerId, start.Amount, S.RiskScore!, S.RiskEvent!, S.DescribedRiskFeatures(), now));
        S.Notice = OrderNotice.None;
        S.HeldForReview = true;
        Note(now, "HeldForReview", detail);
        // Opened before a write of this payment that was lost (a crash, a failed write), the review may have been decided since:
        // it told this payment, which did not know it was held yet and let the decision pass. It is carried out now.
        // Its money may also have been given back meanwhile (a transfer whose order was cancelled or refunded): then there is
        // nothing left to decide.
        WithdrawReviewIfRefundedInFull();
        if (review.Status is Risk.RiskReviewStatus.Approved or Risk.RiskReviewStatus.Rejected && S.ReviewApproved is null)
        {
            TakeReviewDecision(review.Status == Risk.RiskReviewStatus.Approved, review.DecidedBy ?? "system", now);
        }
    }

    /// <summary>
    /// The order refused to hold for a review this payment was about to open: a review opened before a write of this payment
    /// that was lost (a crash, a failed write) may be in the analysts' queue, so it is withdrawn (asking one never opened changes
    /// nothing). No decision of it was acted on.
    /// </summary>
    private void WithdrawReviewMaybeOpened(string reason)
    {
        if (S.ReviewWithdrawal is null && !S.HeldForReview)
        {
            S.ReviewWithdrawal = reason;
            S.CancelledBeforeReviewDecision = S.ReviewApproved is null;
        }
    }

    /// <summary>Money was taken for an order that cannot have it (cancelled meanwhile, or paid by another payment): give it back.</summary>
    private async Task ReturnInFull(DateTimeOffset now, PaymentStart start)
    {
        var left = start.Amount.AmountMinor - RefundedOrPending();
        if (left > 0)
        {
            S.Refunds.Add(new PaymentRefundView($"{PaymentId}-return", new Money(left, start.Amount.Currency), RefundStatus.Pending,
                "the order could not take this payment", now, null));
            // No order watches this money any more: the reminder does, until it is back with the buyer.
            await ScheduleReconcile();
        }
        Note(now, "RefusedByOrder", "returned in full");
        await Write();
    }

    /// <summary>
    /// The attempt's outcome is known and not yet in the risk histories: the provider has answered, and a payment held for a
    /// review waits for the analysts' decision (recorded before it, a payment they reject would count as approved for good).
    /// </summary>
    private bool RiskOutcomeDue =>
        S.RiskEvent is not null && !S.RiskRecorded && S.Status is not (PaymentStatus.Pending or PaymentStatus.RequiresAction or PaymentStatus.AwaitingTransfer)
        && !(S.HeldForReview && S.ReviewApproved is null);

    private bool HasWork() =>
        (S.Status == PaymentStatus.Pending) || S.ReviewWithdrawal is not null || S.Notice != OrderNotice.None || S.RefundsToReport.Count > 0
        || RiskOutcomeDue
        || (S.Status == PaymentStatus.Authorized && S.CaptureRequested)
        || (S.VoidRequested && S.Status is PaymentStatus.Authorized or PaymentStatus.RequiresAction or PaymentStatus.AwaitingTransfer)
        || (S.Status == PaymentStatus.Captured && S.Refunds.Any(r => r.Status == RefundStatus.Pending));

    private async Task ScheduleReconcile()
    {
        _timer ??= this.RegisterGrainTimer(static (grain, _) => grain.Advance(), this, new GrainTimerCreationOptions
        {
            DueTime = options.Value.ReconcilePeriod,
            Period = options.Value.ReconcilePeriod,
            Interleave = false,
        });
        if (!_reminderMayExist)
        {
            // Durable backstop: if this silo dies, the reminder wakes the payment on another one.
            _reminderMayExist = true;
            await this.RegisterOrUpdateReminder(ReconcileReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }
    }

    private async Task StopReconcile()
    {
        if (HasWork())
        {
            return;
        }
        _timer?.Dispose();
        _timer = null;
        ReleaseKept(); // nothing left to ask: its place among the payments kept asking goes to another
        if (_reminderMayExist && await this.GetReminder(ReconcileReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
        _reminderMayExist = false;
    }

    private void Note(DateTimeOffset now, string @event, string? detail)
    {
        S.History.Add(new PaymentHistoryEntry(now, S.Status, @event, detail));
        S.UpdatedAt = now;
    }

    private Task Write()
    {
        // Whether it lands or the stored state is reloaded (or the activation dropped), nothing unwritten is left in memory after it.
        _unwritten = false;
        S.ResumeAt = NextResumeAt();
        return state.WriteOrReloadAsync(this);
    }

    /// <summary>Steps left and no reminder to do them if this activation dies: have the deadline index wake the payment.</summary>
    private DateTimeOffset? NextResumeAt() =>
        S.Start is not null && HasWork() && !_reminderMayExist ? clock.GetUtcNow() + options.Value.ResumeStalledAfter
        : S.Start is not null && WaitingOnBuyer ? S.NextLookupAt
        : null;

    private PaymentView View()
    {
        var start = S.Start!;
        return new PaymentView(PaymentId, start.OrderId, start.BuyerId, start.SellerId, start.Amount, start.Instrument.Type,
            start.Instrument.CardLast4, S.Status, S.Provider, S.ProviderPaymentId, S.DeclineCode, S.Message, S.ActionUrl, S.TransferReference,
            start.PayBy, start.Schedule, new Money(S.Refunds.Where(r => r.Status == RefundStatus.Succeeded).Sum(r => r.Amount.AmountMinor), start.Amount.Currency),
            S.Refunds.ToArray(), S.History.ToArray(), S.CreatedAt, S.UpdatedAt, S.RiskScore, S.HeldForReview);
    }
}
