using Orleans.Trade.Silo.Storage;

namespace Orleans.Trade.Tests.Storage;

public sealed class RoundTripBatcherTests
{
    /// <summary>A round trip that waits for the test to let it finish, recording the batches it carried.</summary>
    private sealed class GatedRoundTrip
    {
        public List<int[]> Batches { get; } = [];
        public TaskCompletionSource Gate { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Func<int, string?>? Fail { get; set; }

        public async Task<IReadOnlyList<string>> RunAsync(IReadOnlyList<int> items, CancellationToken _)
        {
            lock (Batches)
            {
                Batches.Add(items.ToArray());
            }
            Entered.TrySetResult();
            await Gate.Task;
            if (Fail is { } fail && items.Select(fail).FirstOrDefault(f => f is not null) is { } message)
            {
                throw new InvalidOperationException(message);
            }
            return items.Select(i => $"r{i}").ToArray();
        }
    }

    [Fact]
    public async Task Requests_queued_during_a_round_trip_share_the_next_one_and_each_gets_its_own_answer()
    {
        var trip = new GatedRoundTrip();
        var batcher = new RoundTripBatcher<int, string>(trip.RunAsync, maxBatch: 100, maxInFlight: 1);

        var first = batcher.EnqueueAsync(0);
        await trip.Entered.Task;
        var queued = Enumerable.Range(1, 50).Select(batcher.EnqueueAsync).ToArray();
        Assert.Equal(50, batcher.Queued);
        Assert.False(first.IsCompleted);

        trip.Gate.SetResult();
        Assert.Equal("r0", await first);
        var answers = await Task.WhenAll(queued);

        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"r{i}"), answers);
        Assert.Equal(2, trip.Batches.Count);
        Assert.Equal([0], trip.Batches[0]);
        Assert.Equal(Enumerable.Range(1, 50), trip.Batches[1]);
    }

    [Fact]
    public async Task A_round_trip_never_carries_more_than_the_batch_limit()
    {
        var trip = new GatedRoundTrip();
        var batcher = new RoundTripBatcher<int, string>(trip.RunAsync, maxBatch: 8, maxInFlight: 1);
        var first = batcher.EnqueueAsync(0);
        await trip.Entered.Task;
        var rest = Enumerable.Range(1, 20).Select(batcher.EnqueueAsync).ToArray();
        trip.Gate.SetResult();
        await Task.WhenAll(rest.Append(first));

        Assert.All(trip.Batches, b => Assert.InRange(b.Length, 1, 8));
        Assert.Equal(Enumerable.Range(0, 21), trip.Batches.SelectMany(b => b).Order());
    }

    [Fact]
    public async Task A_failed_round_trip_fails_only_its_own_requests()
    {
        var trip = new GatedRoundTrip { Fail = i => i == 0 ? "disk full" : null };
        var batcher = new RoundTripBatcher<int, string>(trip.RunAsync, maxBatch: 100, maxInFlight: 1);
        var failing = batcher.EnqueueAsync(0);
        await trip.Entered.Task;
        var later = Enumerable.Range(1, 5).Select(batcher.EnqueueAsync).ToArray();
        trip.Gate.SetResult();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.Equal("disk full", error.Message);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"r{i}"), await Task.WhenAll(later));
    }

    [Fact]
    public async Task Several_round_trips_may_be_in_flight_up_to_the_limit()
    {
        var inFlight = 0;
        var peak = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<IReadOnlyList<int>> Trip(IReadOnlyList<int> items, CancellationToken _)
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref peak, now);
            await release.Task;
            Interlocked.Decrement(ref inFlight);
            return items;
        }
        var batcher = new RoundTripBatcher<int, int>(Trip, maxBatch: 1, maxInFlight: 3);
        var all = Enumerable.Range(0, 10).Select(batcher.EnqueueAsync).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Volatile.Read(ref inFlight) < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        release.SetResult();

        Assert.Equal(Enumerable.Range(0, 10), await Task.WhenAll(all));
        Assert.Equal(3, peak);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
