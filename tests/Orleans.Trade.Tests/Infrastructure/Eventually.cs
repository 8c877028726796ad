using System.Text.Json.Nodes;

namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>Polls for something that happens asynchronously (a webhook, an outbox, a timer), failing with the last thing seen.</summary>
public static class Eventually
{
    public static Task<JsonNode> ReadAsync(Func<Task<JsonNode>> read, Func<JsonNode, bool> done, string what, TimeSpan? timeout = null) =>
        UntilAsync(read, done, what, timeout);

    /// <summary>Reads until <paramref name="done"/> holds for what was read (a JSON answer, a database column, a count).</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        T last;
        do
        {
            last = await read();
            if (done(last))
            {
                return last;
            }
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"Timed out waiting for {what}; last seen: {(last is null ? "nothing" : last.ToString())}");
        return last;
    }
}
