using Orleans.Trade.Api.Analytics;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>Results reads of one experiment share the read in flight (a polled dashboard must not stack seconds-long replays).</summary>
public sealed class SharedResultReadsTests
{
    [Fact]
    public async Task Requests_arriving_while_a_read_is_in_flight_share_it_and_the_next_one_reads_afresh()
    {
        var reads = new SharedResultReads<(string, long), int>();
        var started = 0;
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> Read()
        {
            Interlocked.Increment(ref started);
            return gate.Task;
        }

        var first = reads.ReadAsync(("exp-1", 1), Read);
        var second = reads.ReadAsync(("exp-1", 1), Read);
        var otherVersion = reads.ReadAsync(("exp-1", 2), () => Task.FromResult(7));
        var otherExperiment = reads.ReadAsync(("exp-2", 1), async () => { await Task.Yield(); return 9; });

        Assert.Same(first, second);
        Assert.Equal(1, started);
        Assert.Equal(7, await otherVersion); // other terms: a read of their own, here done at once and not kept
        Assert.Equal(9, await otherExperiment);
        gate.SetResult(42);
        Assert.Equal(42, await first);
        Assert.Equal(42, await second);
        Assert.Equal(0, reads.InFlight);

        var later = await reads.ReadAsync(("exp-1", 1), () => Task.FromResult(43));
        Assert.Equal(43, later); // nothing was kept after the read completed
    }

    [Fact]
    public async Task A_failed_read_fails_its_waiters_and_is_not_kept()
    {
        var reads = new SharedResultReads<string, int>();
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = reads.ReadAsync("exp", () => gate.Task);
        var second = reads.ReadAsync("exp", () => Task.FromResult(1));
        gate.SetException(new TimeoutException("database busy"));

        await Assert.ThrowsAsync<TimeoutException>(() => first);
        await Assert.ThrowsAsync<TimeoutException>(() => second);
        Assert.Equal(0, reads.InFlight);
        Assert.Equal(2, await reads.ReadAsync("exp", () => Task.FromResult(2)));
    }
}
