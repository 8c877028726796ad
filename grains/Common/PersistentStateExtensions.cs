namespace Orleans.Trade.Common;

public static class PersistentStateExtensions
{
    /// <summary>
    /// Writes the state; if the write fails it may or may not have landed, so memory is reloaded from storage before the
    /// error goes on: a grain never keeps, or answers from, a change that was not acknowledged.
    /// </summary>
    public static async Task WriteOrReloadAsync<T>(this IPersistentState<T> state, IGrainBase grain)
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
            }
            throw;
        }
    }
}
