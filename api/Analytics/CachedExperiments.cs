using Orleans.Trade.Analytics;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Analytics;

/// <summary>
/// The platform's experiments as this silo last read them, for the storefront's calls (an assignment per page shown, exposures in
/// batches), which would otherwise all go to the one experiments grain. At most <see cref="MaxAge"/> old (a changed end or name
/// shows within it; the design of a started experiment does not change), and an experiment missing from the copy is read from the
/// grain (one just created).
/// </summary>
public sealed class CachedExperiments(TradeClock clock)
{
    public static readonly TimeSpan MaxAge = IExperimentsGrain.DesignFixedBeforeStart;

    private readonly CachedRead<IReadOnlyDictionary<string, Experiment>> _all = new(clock, MaxAge);

    public async ValueTask<Experiment?> GetAsync(string experimentId, IGrainFactory grains)
    {
        var registry = grains.GetGrain<IExperimentsGrain>(IExperimentsGrain.Key);
        var all = await _all.GetAsync(async () => (await registry.List()).ToDictionary(e => e.ExperimentId, StringComparer.Ordinal));
        return all.TryGetValue(experimentId, out var experiment) ? experiment : await registry.Get(experimentId);
    }
}
