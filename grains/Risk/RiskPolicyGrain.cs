using Orleans.Trade.Common;

namespace Orleans.Trade.Risk;

[GenerateSerializer]
public sealed class RiskPolicyState
{
    [Id(0)] public RiskPolicy? Policy { get; set; }
}

/// <summary>The cluster's risk policy (state name <c>riskPolicy</c>); until one is set, the configured thresholds apply.</summary>
public sealed class RiskPolicyGrain(
    [PersistentState(stateName: "riskPolicy", storageName: StorageNames.Trade)] IPersistentState<RiskPolicyState> state,
    Microsoft.Extensions.Options.IOptions<RiskOptions> options,
    TradeClock clock) : Grain, IRiskPolicyGrain
{
    public Task<RiskPolicy> Get() => Task.FromResult(state.State.Policy
        ?? RiskPolicy.Default with { ReviewThreshold = options.Value.ReviewThreshold, BlockThreshold = options.Value.BlockThreshold });

    public async Task<RiskPolicy> Set(RiskPolicy policy, string changedBy)
    {
        var current = await Get();
        state.State.Policy = policy with { Version = current.Version + 1, ChangedAt = clock.GetUtcNow(), ChangedBy = changedBy };
        await state.WriteOrReloadAsync(this);
        return state.State.Policy;
    }
}

/// <summary>Each silo's copy of the risk policy, read from the policy grain at most every few seconds.</summary>
public sealed class CachedRiskPolicy(IGrainFactory grains, TimeProvider time) : IRiskPolicyCache
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);
    private (RiskPolicy Policy, DateTimeOffset ReadAt)? _cached;

    public async Task<RiskPolicy> GetAsync()
    {
        var now = time.GetUtcNow();
        if (_cached is { } cached && now - cached.ReadAt < MaxAge)
        {
            return cached.Policy;
        }
        var policy = await grains.GetGrain<IRiskPolicyGrain>(IRiskPolicyGrain.Key).Get();
        _cached = (policy, now);
        return policy;
    }

    /// <summary>Takes a policy just written on this silo at once.</summary>
    public void Set(RiskPolicy policy) => _cached = (policy, time.GetUtcNow());
}
