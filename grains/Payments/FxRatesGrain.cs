using Orleans.Trade.Common;

namespace Orleans.Trade.Payments;

[GenerateSerializer]
public sealed class FxRatesState
{
    [Id(0)] public FxRateTable? Table { get; set; }
}

public sealed class FxRatesGrain(
    [PersistentState(stateName: "fx-rates", storageName: StorageNames.Trade)] IPersistentState<FxRatesState> state) : Grain, IFxRatesGrain
{
    /// <summary>
    /// The table as stored: <see cref="Current"/> interleaves with an update's write, and answered the state it changes, a silo's
    /// cache took a table whose write then failed and kept it (it never goes back to an older one), pricing orders with it.
    /// </summary>
    private FxRateTable? _stored;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stored = state.State.Table;
        return Task.CompletedTask;
    }

    public async Task<FxUpdateStatus> Update(FxRateTable table)
    {
        if (state.State.Table is { } current && current.AsOf > table.AsOf)
        {
            return FxUpdateStatus.Stale;
        }
        state.State.Table = table;
        await state.WriteOrReloadAsync(this, () => _stored = state.State.Table);
        return FxUpdateStatus.Applied;
    }

    public Task<FxRateTable?> Current() => Task.FromResult(_stored);
}
