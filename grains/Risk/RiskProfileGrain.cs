using Microsoft.Extensions.Logging;

namespace Orleans.Trade.Risk;

/// <summary>Persistent state of a risk profile grain (state name <c>riskProfile</c>).</summary>
[GenerateSerializer]
public sealed class RiskProfileState
{
    [Id(0)] public EntityHistory History { get; set; } = new();
    /// <summary>The latest payments recorded, so a repeated record changes nothing.</summary>
    [Id(1)] public List<string> RecentPayments { get; set; } = [];
    /// <summary>
    /// Attempts scored (<see cref="RiskProfileGrain.Reserve"/>) whose outcome is not recorded yet, by payment: counted by the next
    /// payments' facts. Stored with the history (a payment held for the analysts may wait days, longer than an idle activation
    /// lives); at most <see cref="EntityHistory.MaxRecentEntries"/>, the oldest dropped first, each for at most a day.
    /// </summary>
    [Id(2)] public Dictionary<string, HistoryEntry> Pending { get; set; } = new(StringComparer.Ordinal);
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

    private Dictionary<string, HistoryEntry> Pending => state.State.Pending;

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
        Task.FromResult(state.State.History.Facts(attempt, countDistinctCards, Pending.Values));

    public Task<EntityFacts> Reserve(RiskEvent attempt, bool countDistinctCards)
    {
        // Reserved attempts never recorded (a payment abandoned, or lost with its silo) leave once outside every window.
        var cutoff = attempt.OccurredAt - EntityHistory.Retention;
        foreach (var (paymentId, entry) in Pending)
        {
            if (entry.At <= cutoff)
            {
                Pending.Remove(paymentId);
            }
        }
        Pending.Remove(attempt.PaymentId, out _); // scored again (a retry): not its own earlier attempt
        var facts = state.State.History.Facts(attempt, countDistinctCards, Pending.Values);
        if (!state.State.RecentPayments.Contains(attempt.PaymentId))
        {
            if (Pending.Count >= EntityHistory.MaxRecentEntries)
            {
                Pending.Remove(Pending.MinBy(p => p.Value.At).Key);
            }
            Pending[attempt.PaymentId] = new HistoryEntry(attempt.OccurredAt, attempt.AmountUsdMinor, false, attempt.CardFingerprint);
        }
        Changed();
        return Task.FromResult(facts);
    }

    public Task Record(RiskEvent attempt)
    {
        var s = state.State;
        if (Pending.Remove(attempt.PaymentId))
        {
            Changed();
        }
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
        Changed();
        return Task.CompletedTask;
    }

    /// <summary>The state changed: written within <see cref="FlushPeriod"/>, with whatever else changes meanwhile.</summary>
    private void Changed()
    {
        _dirty = true;
        _flush ??= this.RegisterGrainTimer(static (grain, _) => grain.Flush(), this,
            new GrainTimerCreationOptions { DueTime = FlushPeriod, Period = FlushPeriod, Interleave = false });
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
