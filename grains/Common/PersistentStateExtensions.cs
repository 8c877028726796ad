namespace Orleans.Trade.Common;

public static class PersistentStateExtensions
{
    /// <summary>
    /// Writes the state; if the write fails it may or may not have landed, so memory is reloaded from storage before the
    /// error goes on: a grain never keeps, or answers from, a change that was not acknowledged.
    /// </summary>
    public static async Task WriteOrReloadAsync<T>(this IPersistentState<T> state)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            await state.ReadStateAsync();
            throw;
        }
    }
}
