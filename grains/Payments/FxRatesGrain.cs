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
    public async Task<FxUpdateStatus> Update(FxRateTable table)
    {
        if (state.State.Table is { } current && current.AsOf > table.AsOf)
        {
            return FxUpdateStatus.Stale;
        }
        state.State.Table = table;
        await state.WriteOrReloadAsync(this);
        return FxUpdateStatus.Applied;
    }

    public Task<FxRateTable?> Current() => Task.FromResult(state.State.Table);
}
