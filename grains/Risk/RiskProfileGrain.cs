using Microsoft.Extensions.Logging;

namespace Orleans.Trade.Risk;

/// <summary>Persistent state of a risk profile grain (state name <c>riskProfile</c>).</summary>
[GenerateSerializer]
public sealed class RiskProfileState
{
    [Id(0)] public EntityHistory History { get; set; } = new();
    /// <summary>The latest payments recorded, so a repeated record changes nothing.</summary>
    [Id(1)] public List<string> RecentPayments { get; set; } = [];
}

/// <summary>
/// One entity's payment history. Features are derived data, so writes are coalesced: the history is written at most every
/// <see cref="FlushPeriod"/> and when the grain deactivates. A silo crash can lose the last moments of history, never a
/// payment or an order.
/// </summary>
public sealed class RiskProfileGrain(
    [PersistentState(stateName: "riskProfile", storageName: StorageNames.Trade)] IPersistentState<RiskProfileState> state,
    ILogger<RiskProfileGrain> logger) : Grain, IRiskProfileGrain
{
    public static readonly TimeSpan FlushPeriod = TimeSpan.FromSeconds(2);
    private const int RecentPaymentsKept = 64;
    private bool _dirty;
    private IGrainTimer? _flush;

    /// <summary>
    /// Attempts scored (<see cref="Reserve"/>) whose outcome is not recorded yet, by payment: counted by the next payments'
    /// facts. Kept in memory only, like the last moments of the history: a silo crash forgets them, never a payment.
    /// </summary>
    private readonly Dictionary<string, HistoryEntry> _pending = new(StringComparer.Ordinal);

    /// <summary>
    /// A copy: the answer goes to another silo and may be serialized after this turn, while the next record changes the
    /// history in place. Only the previous release's silos ask for it, during a rolling update.
    /// </summary>
    public Task<Immutable<EntityHistory>> History()
    {
        var h = state.State.History;
        return Task.FromResult(new EntityHistory
        {
            Recent = [.. h.Recent],
            FirstSeen = h.FirstSeen,
            LastSeen = h.LastSeen,
            Attempts = h.Attempts,
            ApprovedCount = h.ApprovedCount,
            ApprovedAmountUsdMinor = h.ApprovedAmountUsdMinor,
            KnownDevices = [.. h.KnownDevices],
            KnownAddresses = [.. h.KnownAddresses],
            KnownCards = [.. h.KnownCards],
        }.AsImmutable());
    }

    public Task<EntityFacts> Facts(RiskEvent attempt, bool countDistinctCards) =>
        Task.FromResult(state.State.History.Facts(attempt, countDistinctCards, _pending.Values));

    public Task<EntityFacts> Reserve(RiskEvent attempt, bool countDistinctCards)
    {
        // Reserved attempts never recorded (a payment abandoned, or lost with its silo) leave once outside every window.
        var cutoff = attempt.OccurredAt - EntityHistory.Retention;
        foreach (var (paymentId, entry) in _pending)
        {
            if (entry.At <= cutoff)
            {
                _pending.Remove(paymentId);
            }
        }
        _pending.Remove(attempt.PaymentId, out _); // scored again (a retry): not its own earlier attempt
        var facts = state.State.History.Facts(attempt, countDistinctCards, _pending.Values);
        if (!state.State.RecentPayments.Contains(attempt.PaymentId))
        {
            _pending[attempt.PaymentId] = new HistoryEntry(attempt.OccurredAt, attempt.AmountUsdMinor, false, attempt.CardFingerprint);
        }
        return Task.FromResult(facts);
    }

    public Task Record(RiskEvent attempt)
    {
        var s = state.State;
        _pending.Remove(attempt.PaymentId);
        if (s.RecentPayments.Contains(attempt.PaymentId))
        {
            return Task.CompletedTask;
        }
        s.History.Record(attempt);
        s.RecentPayments.Add(attempt.PaymentId);
        if (s.RecentPayments.Count > RecentPaymentsKept)
        {
            s.RecentPayments.RemoveAt(0);
        }
        _dirty = true;
        _flush ??= this.RegisterGrainTimer(static (grain, _) => grain.Flush(), this,
            new GrainTimerCreationOptions { DueTime = FlushPeriod, Period = FlushPeriod, Interleave = false });
        return Task.CompletedTask;
    }

    private async Task Flush()
    {
        if (!_dirty)
        {
            _flush?.Dispose();
            _flush = null;
            return;
        }
        _dirty = false;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Orleans.Storage.InconsistentStateException ex)
        {
            // Stored meanwhile by another activation, or by a write that landed but reported a failure: retrying with this
            // version would fail for ever. Take what is stored; the payments recorded since the last write are lost.
            logger.LogWarning(ex, "Risk profile {Profile} was stored elsewhere; reloading it", this.GetPrimaryKeyString());
            await state.ReadStateAsync();
        }
        catch (Exception ex)
        {
            _dirty = true;
            logger.LogWarning(ex, "Risk profile {Profile} could not be written; will retry", this.GetPrimaryKeyString());
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty)
        {
            await Flush();
        }
    }
}
