namespace Orleans.Trade.Common;

public static class PersistentStateExtensions
{
    /// <summary>
    /// Writes the state; if the write fails it may or may not have landed, so memory is reloaded from storage before the
    /// error goes on: a grain never keeps, or answers from, a change that was not acknowledged.
    /// </summary>
    public static Task WriteOrReloadAsync<T>(this IPersistentState<T> state, IGrainBase grain) => state.WriteOrReloadAsync(grain, null);

    /// <summary>
    /// <see cref="WriteOrReloadAsync{T}(IPersistentState{T}, IGrainBase)"/>, calling <paramref name="stored"/> whenever memory is
    /// again what storage holds: after the write, and after a failed write's reload (which may bring back the change, when the
    /// write landed though it reported a failure, or not). A grain that answers interleaved reads from a copy of its stored state
    /// takes the new copy there; taken only after a successful write, a change that landed anyway was not served until the next.
    /// </summary>
    public static async Task WriteOrReloadAsync<T>(this IPersistentState<T> state, IGrainBase grain, Action? stored)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            try
            {
                await state.ReadStateAsync();
            }
            catch
            {
                // Memory is ahead of storage and cannot be put back: drop the activation so the next call loads what is durable.
                grain.GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError, "its state could not be written or reloaded"));
                throw;
            }
            stored?.Invoke();
            throw;
        }
        stored?.Invoke();
    }
}
