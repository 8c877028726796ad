using Orleans.Trade.Common;

namespace Orleans.Trade.Analytics;

[GenerateSerializer]
public sealed class ExperimentsState
{
    [Id(0)] public Dictionary<string, Experiment> Experiments { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The platform's A/B tests (R-DAT-5), their terms only: visitors' exposures and conversions are rows, read by the API.</summary>
public sealed class ExperimentsGrain(
    [PersistentState(stateName: "experiments", storageName: StorageNames.Trade)] IPersistentState<ExperimentsState> state,
    TradeClock clock) : Grain, IExperimentsGrain
{
    /// <summary>
    /// The experiments as stored, which the reads answer: a change is written as a new dictionary and taken here once memory is
    /// again what storage holds (read while its write was in flight, an experiment whose write then failed assigned variants).
    /// </summary>
    private Dictionary<string, Experiment> _stored = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stored = state.State.Experiments;
        return Task.CompletedTask;
    }

    public async Task<ExperimentWrite> Put(string experimentId, ExperimentTerms terms, string by)
    {
        var now = clock.GetUtcNow();
        state.State.Experiments.TryGetValue(experimentId, out var existing);
        if (existing is not null && existing.Terms.Equivalent(terms))
        {
            return new ExperimentWrite(ExperimentWriteStatus.Unchanged, existing);
        }
        if (existing is not null && existing.Terms.StartsAt <= now + IExperimentsGrain.DesignFixedBeforeStart && !existing.Terms.SameDesign(terms))
        {
            return new ExperimentWrite(ExperimentWriteStatus.Started, existing);
        }
        if (existing is null && state.State.Experiments.Count >= IExperimentsGrain.MaxStored)
        {
            return new ExperimentWrite(ExperimentWriteStatus.TooMany, null);
        }
        // Only experiments running or scheduled take room: an ended one stays readable (its results) and counts no more, and a
        // seller frees room by ending one (its end may change at any time). So room is checked whenever a write leaves the
        // experiment open where it did not hold room before: a new one, one reopened (its end moved later or removed), or one
        // moved to another seller before its start.
        if (Open(terms, now) && (existing is null || !Open(existing.Terms, now) || existing.Terms.SellerId != terms.SellerId))
        {
            var open = state.State.Experiments.Values.Where(e => e.ExperimentId != experimentId && Open(e.Terms, now)).ToArray();
            if (terms.SellerId is { } seller
                && open.Count(e => e.Terms.SellerId == seller) >= IExperimentsGrain.MaxExperimentsPerSeller)
            {
                return new ExperimentWrite(ExperimentWriteStatus.TooManyForSeller, existing);
            }
            if (open.Length >= IExperimentsGrain.MaxExperiments)
            {
                return new ExperimentWrite(ExperimentWriteStatus.TooMany, existing);
            }
        }
        var experiment = new Experiment(experimentId, terms, (existing?.Version ?? 0) + 1, existing?.CreatedBy ?? by, existing?.CreatedAt ?? now, now);
        state.State.Experiments = new Dictionary<string, Experiment>(state.State.Experiments, StringComparer.Ordinal) { [experimentId] = experiment };
        await state.WriteOrReloadAsync(this, () => _stored = state.State.Experiments);
        return new ExperimentWrite(existing is null ? ExperimentWriteStatus.Created : ExperimentWriteStatus.Updated, experiment);
    }

    private static bool Open(ExperimentTerms terms, DateTimeOffset now) => terms.EndsAt is not { } end || end > now;

    public Task<Experiment?> Get(string experimentId) =>
        Task.FromResult(_stored.GetValueOrDefault(experimentId));

    public Task<IReadOnlyList<Experiment>> List() => Task.FromResult<IReadOnlyList<Experiment>>(
        _stored.Values.OrderByDescending(e => e.CreatedAt).ThenBy(e => e.ExperimentId, StringComparer.Ordinal).ToArray());
}
